/** `/recap-config api-key …` and `/recap-config feed …`: the server's REST API keys and Atom feeds. Every answer is private. */
import { ChannelType, type SlashCommandBuilder } from 'discord.js';
import type { SlashCommand } from '../command.ts';
import { runApiKeyCreate, runApiKeyList, runApiKeyRevoke } from '../recap-config/api-keys.ts';
import { autocompleteFeedDigest, runFeedCreate, runFeedList, runFeedRevoke } from '../recap-config/feeds.ts';
import { adminCommandBuilder } from '../shared/access.ts';
import { SUMMARIZABLE_TYPES } from '../shared/channel-kinds.ts';
import { runSubcommand, type SubcommandHandler } from '../shared/subcommands.ts';

export const RECAP_CONFIG_COMMAND = 'recap-config';

function recapConfigDefinition(): SlashCommandBuilder {
  const builder = adminCommandBuilder(RECAP_CONFIG_COMMAND, "This server's REST API keys and Atom feeds");
  builder.addSubcommandGroup((g) =>
    g
      .setName('api-key')
      .setDescription('REST API keys (/api/v1)')
      .addSubcommand((s) =>
        s
          .setName('create')
          .setDescription('A new API key acting as you; shown once')
          .addStringOption((o) =>
            o
              .setName('scopes')
              .setDescription('What the key may do')
              .setRequired(true)
              .addChoices(
                { name: 'summaries:read', value: 'summaries:read' },
                { name: 'summaries:create', value: 'summaries:create' },
                { name: 'summaries:read and summaries:create', value: 'summaries:read summaries:create' },
              ),
          )
          .addStringOption((o) => o.setName('name').setDescription('What it is for (shown in the list)').setRequired(true).setMaxLength(100)),
      )
      .addSubcommand((s) => s.setName('list').setDescription("This server's API keys, with last use"))
      .addSubcommand((s) =>
        s
          .setName('revoke')
          .setDescription('Revoke an API key')
          .addStringOption((o) => o.setName('key').setDescription('The key\'s id from the list (or the whole key)').setRequired(true).setMaxLength(200)),
      ),
  );
  builder.addSubcommandGroup((g) =>
    g
      .setName('feed')
      .setDescription("Atom feeds of a channel's summaries or a digest's runs")
      .addSubcommand((s) =>
        s
          .setName('create')
          .setDescription('A feed URL of a channel\'s summaries or a digest\'s runs; shown once')
          .addChannelOption((o) => o.setName('channel').setDescription('The channel (or give a digest)').addChannelTypes(...SUMMARIZABLE_TYPES.filter((t) => t !== ChannelType.PrivateThread)))
          .addStringOption((o) => o.setName('digest').setDescription('A digest\'s id (/digest list): a feed of its posted runs').setMaxLength(40).setAutocomplete(true))
          .addBooleanOption((o) => o.setName('confirm_private').setDescription('Make it even though @everyone cannot read the channel (anyone with the URL can read the feed)')),
      )
      .addSubcommand((s) => s.setName('list').setDescription("This server's feeds"))
      .addSubcommand((s) =>
        s
          .setName('revoke')
          .setDescription('Revoke a feed')
          .addStringOption((o) => o.setName('feed').setDescription('The feed\'s id from the list (or its URL)').setRequired(true).setMaxLength(300)),
      ),
  );
  return builder;
}

const subcommands: Readonly<Record<string, SubcommandHandler>> = {
  'api-key create': runApiKeyCreate,
  'api-key list': runApiKeyList,
  'api-key revoke': runApiKeyRevoke,
  'feed create': runFeedCreate,
  'feed list': runFeedList,
  'feed revoke': runFeedRevoke,
};

export const recapConfigCommand: SlashCommand = {
  data: recapConfigDefinition().toJSON(),
  execute: (interaction, ctx) =>
    runSubcommand(RECAP_CONFIG_COMMAND, subcommands, interaction, ctx, `${interaction.options.getSubcommandGroup() ?? ''} ${interaction.options.getSubcommand(true)}`.trim()),
  autocomplete: async (interaction, ctx) => {
    if (interaction.options.getFocused(true).name === 'digest') return autocompleteFeedDigest(interaction, ctx);
    await interaction.respond([]);
  },
};

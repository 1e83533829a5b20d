import { ChannelType, type SlashCommandBuilder } from 'discord.js';
import type { CommandContext, ComponentInteraction, SlashCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { COMMAND_NAME, parseCustomId } from '../prompt-config/custom-ids.ts';
import { runGithubApp } from '../prompt-config/github-app.ts';
import { runCategoryMapList, runCategoryMapRemove, runCategoryMapSet } from '../prompt-config/category-map.ts';
import { runRefresh } from '../prompt-config/refresh.ts';
import { onRemoveButton, runRemove, type RemoveTarget } from '../prompt-config/remove.ts';
import { onSetButton, runSet, type SetCandidate } from '../prompt-config/set.ts';
import { runStatus } from '../prompt-config/status.ts';
import { autocompleteTest, runTest } from '../prompt-config/test.ts';
import { onTokenSubmit, openTokenModal, runTokenRemove } from '../prompt-config/token.ts';
import { runWebhook } from '../prompt-config/webhook.ts';
import { NOTICE_CHANNEL_TYPES, runNotices } from '../prompt-config/notices.ts';
import { adminCommandBuilder } from '../shared/access.ts';
import { SUMMARIZABLE_TYPES } from '../shared/channel-kinds.ts';
import { confirmationKind } from '../shared/pending-confirmations.ts';
import { runSubcommand, type SubcommandHandler } from '../shared/subcommands.ts';

/** The registered shape of /prompt-config (Manage Server by default, servers only). */
export function promptConfigDefinition(): SlashCommandBuilder {
  const builder = adminCommandBuilder(COMMAND_NAME, "Manage this server's prompt repository on GitHub");
  builder.addSubcommand((s) =>
    s
      .setName('set')
      .setDescription('Use a GitHub repository for this server’s prompts (validated first)')
      .addStringOption((o) =>
        o.setName('repo_url').setDescription('owner/name or https://github.com/owner/name').setRequired(true).setMaxLength(300),
      )
      .addStringOption((o) => o.setName('branch').setDescription('Branch to read (default: the repository’s default branch)').setMaxLength(200)),
  );
  builder.addSubcommand((s) => s.setName('token').setDescription('Store a GitHub token for a private repository (typed in a private form)'));
  builder.addSubcommand((s) => s.setName('token-remove').setDescription('Delete the stored GitHub token'));
  builder.addSubcommand((s) => s.setName('status').setDescription('Repository, commit, last sync, errors and which prompts serve now'));
  builder.addSubcommand((s) => s.setName('remove').setDescription('Stop using the repository and delete its token (asks first)'));
  builder.addSubcommand((s) => s.setName('refresh').setDescription('Read the repository from GitHub now'));
  builder.addSubcommand((s) =>
    s
      .setName('test')
      .setDescription('Show which prompt a request would use, and why')
      .addStringOption((o) => o.setName('category').setDescription('Category (default: from the channel category, else discussion)').setAutocomplete(true).setMaxLength(100))
      .addChannelOption((o) => o.setName('channel').setDescription('Channel (default: this one)').addChannelTypes(...SUMMARIZABLE_TYPES))
      .addStringOption((o) => o.setName('type').setDescription('Summary type (default: brief)').setAutocomplete(true).setMaxLength(100))
      .addStringOption((o) =>
        o.setName('perspective').setDescription('Perspective (default: general)').setAutocomplete(true).setMaxLength(100),
      ),
  );
  builder.addSubcommand((s) =>
    s
      .setName('github-app')
      .setDescription('Link the bot’s GitHub App installation to this server (a one-time install link)')
      .addStringOption((o) => o.setName('unlink').setDescription('Installation id to unlink from this server instead').setMaxLength(20)),
  );
  builder.addSubcommand((s) =>
    s
      .setName('webhook')
      .setDescription('This server’s own GitHub webhook: payload URL, and a secret shown once')
      .addBooleanOption((o) => o.setName('rotate').setDescription('Replace the secret now (the old one stops working at once)')),
  );
  builder.addSubcommand((s) =>
    s
      .setName('category-map-set')
      .setDescription('Use a prompt category for summaries of channels in a Discord category')
      .addChannelOption((o) => o.setName('discord_category').setDescription('The Discord channel category').setRequired(true).addChannelTypes(ChannelType.GuildCategory))
      .addStringOption((o) => o.setName('prompt_category').setDescription('Prompt category, e.g. meeting or support').setRequired(true).setMaxLength(100)),
  );
  builder.addSubcommand((s) =>
    s
      .setName('category-map-remove')
      .setDescription('Stop mapping a Discord category to a prompt category')
      .addChannelOption((o) => o.setName('discord_category').setDescription('The Discord channel category').setRequired(true).addChannelTypes(ChannelType.GuildCategory)),
  );
  builder.addSubcommand((s) => s.setName('category-map-list').setDescription('Which Discord categories use which prompt category'));
  builder.addSubcommand((s) =>
    s
      .setName('notices')
      .setDescription('Where admin notices go (failed pushes, unreachable repository, budget, digests)')
      .addChannelOption((o) => o.setName('channel').setDescription('The channel to post notices in').addChannelTypes(...NOTICE_CHANNEL_TYPES))
      .addBooleanOption((o) => o.setName('off').setDescription('Stop posting notices (they show in the status commands)')),
  );
  return builder;
}

export interface PromptConfigCommandOptions {
  /** How long "Save anyway" / "Cancel" stay usable (default 2 minutes). */
  setConfirmMs?: number;
  /** How long the removal confirmation stays usable (default 60 s). */
  removeConfirmMs?: number;
}

/**
 * `/prompt-config`. Its confirmations wait in the bot's memory
 * (`ctx.memory.confirmations`), keyed by the nonce in the buttons' custom ids.
 */
export function createPromptConfigCommand(options: PromptConfigCommandOptions = {}): SlashCommand {
  const setConfirm = confirmationKind<SetCandidate>('prompt-config:set', options.setConfirmMs ?? 120_000);
  const removeConfirm = confirmationKind<RemoveTarget>('prompt-config:remove', options.removeConfirmMs ?? 60_000);

  const subcommands: Readonly<Record<string, SubcommandHandler>> = {
    set: (interaction, ctx) => runSet(interaction, ctx, setConfirm),
    token: openTokenModal,
    'token-remove': runTokenRemove,
    status: runStatus,
    remove: (interaction, ctx) => runRemove(interaction, ctx, removeConfirm),
    refresh: runRefresh,
    test: runTest,
    'category-map-set': runCategoryMapSet,
    'category-map-remove': runCategoryMapRemove,
    'category-map-list': runCategoryMapList,
    'github-app': runGithubApp,
    webhook: runWebhook,
    notices: runNotices,
  };

  const handleComponent = async (interaction: ComponentInteraction, ctx: CommandContext): Promise<void> => {
    const parsed = parseCustomId(interaction.customId);
    if (parsed === undefined) throw new UserFacingError('This button is not known to this version of the bot.');
    if (interaction.isModalSubmit()) {
      if (parsed.action === 'token') return onTokenSubmit(interaction, ctx);
    } else if (interaction.isButton()) {
      if (parsed.action === 'save-anyway' || parsed.action === 'cancel-set') return onSetButton(interaction, ctx, setConfirm, parsed.action, parsed.nonce);
      if (parsed.action === 'remove' || parsed.action === 'cancel-remove') return onRemoveButton(interaction, ctx, removeConfirm, parsed.action, parsed.nonce);
    }
    throw new UserFacingError('This button is not known to this version of the bot.');
  };

  return {
    data: promptConfigDefinition().toJSON(),
    execute: (interaction, ctx) => runSubcommand(COMMAND_NAME, subcommands, interaction, ctx),
    autocomplete: autocompleteTest,
    handleComponent,
  };
}

export const promptConfigCommand: SlashCommand = createPromptConfigCommand();

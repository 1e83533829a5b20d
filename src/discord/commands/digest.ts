/**
 * `/digest create|list|show|pause|resume|delete|run-now`: scheduled
 * summaries of a channel or category, posted to a channel. Who may manage
 * one: Manage Server, or Manage Channels on both channels
 * (`../digest/access.ts`). Runs are jobs on the shared job queue
 * (src/digests/, src/jobs/); the Discord side of a run is
 * `../digest/deliver.ts`.
 */
import { ChannelType, InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { CADENCES } from '../../digests/schedule.ts';
import type { SlashCommand } from '../command.ts';
import { DiscordLimits } from '../format/limits.ts';
import { createDigestCommand } from '../digest/create.ts';
import { deleteDigestCommand } from '../digest/delete.ts';
import { listDigestsCommand } from '../digest/list.ts';
import { pauseDigestCommand, resumeDigestCommand } from '../digest/pause-resume.ts';
import { runDigestNowCommand } from '../digest/run-now.ts';
import { showDigestCommand } from '../digest/show.ts';
import { answerLanguages } from '../shared/languages.ts';
import { answerRoutedChoices } from '../shared/routed-autocomplete.ts';
import { snapshotInMemory } from '../shared/prompt-snapshot.ts';
import { runSubcommand } from '../shared/subcommands.ts';

export const DIGEST_COMMAND = 'digest';

function definition(): SlashCommandBuilder {
  const builder = new SlashCommandBuilder()
    .setName(DIGEST_COMMAND)
    .setDescription('Scheduled summaries of a channel or category, posted to a channel')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageChannels)
    .setContexts(InteractionContextType.Guild);
  builder.addSubcommand((s) =>
    s
      .setName('create')
      .setDescription('Post a summary of a channel or category on a schedule')
      .addChannelOption((o) => o.setName('source').setDescription('Channel or category to summarize').setRequired(true).addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildCategory))
      .addChannelOption((o) => o.setName('post_to').setDescription('Where to post (everyone there must be able to read the source)').setRequired(true).addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement))
      .addStringOption((o) => o.setName('every').setDescription('How often').setRequired(true).addChoices(...CADENCES.map((c) => ({ name: c, value: c }))))
      .addStringOption((o) => o.setName('at').setDescription('Local time, 24-hour (default 09:00)').setMaxLength(5))
      .addStringOption((o) => o.setName('timezone').setDescription('IANA time zone, e.g. Europe/Berlin (default UTC)').setAutocomplete(true).setMaxLength(64))
      .addStringOption((o) => o.setName('cron').setDescription('With every:cron, five fields, e.g. 0 9 * * 1-5').setMaxLength(100))
      .addStringOption((o) => o.setName('type').setDescription('brief, detailed, action_items, …').setAutocomplete(true).setMaxLength(100))
      .addStringOption((o) => o.setName('perspective').setDescription('Who it is for (default: general)').setAutocomplete(true).setMaxLength(100))
      .addStringOption((o) => o.setName('language').setDescription("Language of the summary (default: the server's)").setAutocomplete(true).setMaxLength(40))
      .addBooleanOption((o) => o.setName('skip_if_quiet').setDescription('Post nothing when nothing was said')),
  );
  builder.addSubcommand((s) => s.setName('list').setDescription("This server's digests you can manage"));
  for (const [name, description] of [
    ['show', 'A digest and its last runs'],
    ['pause', 'Stop a digest until resumed'],
    ['resume', 'Start a paused digest again'],
    ['delete', 'Delete a digest and its run history'],
    ['run-now', 'Run a digest now, covering the messages since its last run'],
  ] as const) {
    builder.addSubcommand((s) => s.setName(name).setDescription(description).addStringOption((o) => o.setName('id').setDescription('The digest id from /digest list').setRequired(true).setMaxLength(20)));
  }
  return builder;
}

const handlers = {
  create: createDigestCommand,
  list: listDigestsCommand,
  show: showDigestCommand,
  pause: pauseDigestCommand,
  resume: resumeDigestCommand,
  delete: deleteDigestCommand,
  'run-now': runDigestNowCommand,
};

/** Time zones the platform knows whose name contains what was typed. */
export function timeZoneChoices(typed: string): Array<{ name: string; value: string }> {
  const wanted = typed.trim().toLowerCase();
  const zones = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
  return zones
    .filter((z) => wanted === '' || z.toLowerCase().includes(wanted))
    .slice(0, DiscordLimits.autocompleteChoices)
    .map((z) => ({ name: z, value: z }));
}

export const digestCommand: SlashCommand = {
  data: definition().toJSON(),
  execute: (interaction, ctx) => runSubcommand(DIGEST_COMMAND, handlers, interaction, ctx),
  autocomplete: async (interaction, ctx) => {
    const focused = interaction.options.getFocused(true).name;
    if (focused === 'timezone') return interaction.respond(timeZoneChoices(String(interaction.options.getFocused())));
    if (focused === 'language') return answerLanguages(interaction);
    return answerRoutedChoices(interaction, ctx, (guildId) => snapshotInMemory(ctx.services.prompts, guildId));
  },
};

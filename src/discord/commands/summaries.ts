/**
 * `/summaries list [channel] [from] [to] [page]` and `/summaries show id`:
 * the summary history, read back by any member, showing only summaries of
 * channels they can read now. Every answer is ephemeral.
 */
import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { SlashCommand } from '../command.ts';
import { SUMMARIZABLE_TYPES } from '../shared/channel-kinds.ts';
import { runSubcommand } from '../shared/subcommands.ts';
import { MAX_PAGE, runList } from '../summaries/list.ts';
import { runShow } from '../summaries/show.ts';

export const SUMMARIES_COMMAND = 'summaries';

export function summariesDefinition(): SlashCommandBuilder {
  const builder = new SlashCommandBuilder().setName(SUMMARIES_COMMAND).setDescription('Summaries made in this server, of channels you can read').setContexts(InteractionContextType.Guild);
  builder.addSubcommand((s) =>
    s
      .setName('list')
      .setDescription('List past summaries, newest first')
      .addChannelOption((o) => o.setName('channel').setDescription('Only summaries of this channel').addChannelTypes(...SUMMARIZABLE_TYPES))
      .addStringOption((o) => o.setName('from').setDescription('From a date (2026-12-01) or a time back (7d)').setMaxLength(40))
      .addStringOption((o) => o.setName('to').setDescription('Up to a date (inclusive) or a time back (1d)').setMaxLength(40))
      .addIntegerOption((o) => o.setName('page').setDescription('Page (10 a page)').setMinValue(1).setMaxValue(MAX_PAGE)),
  );
  builder.addSubcommand((s) =>
    s
      .setName('show')
      .setDescription('Show one summary')
      .addStringOption((o) => o.setName('id').setDescription('Its id, as /summaries list shows it').setRequired(true).setMinLength(8).setMaxLength(36)),
  );
  return builder;
}

export function createSummariesCommand(): SlashCommand {
  return {
    data: summariesDefinition().toJSON(),
    execute: (interaction, ctx) => runSubcommand(SUMMARIES_COMMAND, { list: runList, show: runShow }, interaction, ctx),
  };
}

export const summariesCommand: SlashCommand = createSummariesCommand();

/**
 * "Summarize from here" (message context menu): summarizes the channel or
 * thread the message is in, from that message to now, as
 * `/summarize since:<that message's link>` would.
 */
import type { MessageContextMenuCommandInteraction } from 'discord.js';
import type { CommandContext, MessageMenuCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { commandLocalizations } from '../shared/command-localizations.ts';
import { menuCommandData, summarizeFromMenu } from '../summarize/menu-summary.ts';
import type { SummarizeCommandOptions } from './summarize.ts';

export const SUMMARIZE_FROM_HERE = 'Summarize from here';

export function createSummarizeFromHereCommand(options: SummarizeCommandOptions = {}): MessageMenuCommand {
  const executeOnMessage = async (interaction: MessageContextMenuCommandInteraction, ctx: CommandContext): Promise<void> => {
    if (!interaction.inCachedGuild()) throw new UserFacingError(`"${SUMMARIZE_FROM_HERE}" works in server channels only.`);
    const target = interaction.targetMessage;
    await summarizeFromMenu(interaction, ctx, options, target.channelId, target);
  };
  return {
    data: menuCommandData(SUMMARIZE_FROM_HERE, commandLocalizations.menus.fromHere),
    executeOnMessage,
  };
}

export const summarizeFromHereCommand: MessageMenuCommand = createSummarizeFromHereCommand();

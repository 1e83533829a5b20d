/**
 * "Summarize this thread" (message context menu): summarizes a whole thread
 * from its start, chosen by the message it is used on: a message inside the
 * thread, or the message in a channel that the thread was started from.
 */
import type { AnyThreadChannel, Message, MessageContextMenuCommandInteraction } from 'discord.js';
import type { CommandContext, MessageMenuCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { commandLocalizations } from '../shared/command-localizations.ts';
import { menuCommandData, summarizeFromMenu } from '../summarize/menu-summary.ts';
import type { SummarizeCommandOptions } from './summarize.ts';

export const SUMMARIZE_THREAD = 'Summarize this thread';

export function createSummarizeThreadCommand(options: SummarizeCommandOptions = {}): MessageMenuCommand {
  const executeOnMessage = async (interaction: MessageContextMenuCommandInteraction, ctx: CommandContext): Promise<void> => {
    if (!interaction.inCachedGuild()) throw new UserFacingError(`"${SUMMARIZE_THREAD}" works in server channels only.`);
    const thread = await threadOf(interaction.targetMessage);
    if (thread === undefined) {
      throw new UserFacingError('That message is not in a thread and no thread was started from it; use this on a message inside a thread or on the message a thread was started from.');
    }
    await summarizeFromMenu(interaction, ctx, options, thread.id);
  };
  return {
    data: menuCommandData(SUMMARIZE_THREAD, commandLocalizations.menus.thread),
    executeOnMessage,
  };
}

/**
 * The thread the message is in, else the thread started from it: Discord
 * gives such a thread the message's id, and names it in the message's
 * `thread` when it sends the message along.
 */
async function threadOf(message: Message<true>): Promise<AnyThreadChannel | undefined> {
  if (message.channel.isThread()) return message.channel;
  if (message.thread !== null) return message.thread;
  const started = await message.guild.channels.fetch(message.id).catch(() => null);
  return started?.isThread() === true && started.parentId === message.channelId ? started : undefined;
}

export const summarizeThreadCommand: MessageMenuCommand = createSummarizeThreadCommand();

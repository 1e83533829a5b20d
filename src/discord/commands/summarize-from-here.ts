/**
 * "Summarize from here" (message context menu): summarizes the channel or
 * thread the message is in, from that message to now, as
 * `/summarize since:<that message's link>` would.
 */
import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { CommandContext, MessageMenuCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import { summarizableChannel } from '../shared/channel-kinds.ts';
import { commandLocalizations } from '../shared/command-localizations.ts';
import { MAX_MESSAGES, summarizeAndPost, type SummarizeCommandOptions } from './summarize.ts';

export const SUMMARIZE_FROM_HERE = 'Summarize from here';

export function createSummarizeFromHereCommand(options: SummarizeCommandOptions = {}): MessageMenuCommand {
  const executeOnMessage = async (interaction: MessageContextMenuCommandInteraction, ctx: CommandContext): Promise<void> => {
    if (!interaction.inCachedGuild()) throw new UserFacingError(`"${SUMMARIZE_FROM_HERE}" works in server channels only.`);
    const target = interaction.targetMessage;
    const channel = await summarizableChannel(interaction.guild, target.channelId);
    await requireMemberCanRead(channel, interaction.member, channel.id === interaction.channelId);
    await requireBotCanRead(channel);
    const request = {
      channel,
      maxMessages: MAX_MESSAGES,
      since: { kind: 'after-message' as const, guildId: interaction.guildId, channelId: channel.id, messageId: target.id, sinceMs: target.createdTimestamp },
      routing: { category: undefined, type: undefined, perspective: undefined },
      private: false,
    };
    await summarizeAndPost(interaction, request, ctx, options);
  };
  return {
    data: new ContextMenuCommandBuilder()
      .setName(SUMMARIZE_FROM_HERE)
      .setType(ApplicationCommandType.Message)
      .setContexts(InteractionContextType.Guild)
      .setNameLocalizations(commandLocalizations.menus.fromHere)
      .toJSON(),
    executeOnMessage,
  };
}

export const summarizeFromHereCommand: MessageMenuCommand = createSummarizeFromHereCommand();

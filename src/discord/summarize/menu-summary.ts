/**
 * What the two message-menu commands share: the channel checks `/summarize`
 * makes, a request with every option at its default, and the command's
 * registration data.
 */
import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  type LocalizationMap,
  type Message,
  type MessageContextMenuCommandInteraction,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { CommandContext } from '../command.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import { summarizableChannel } from '../shared/channel-kinds.ts';
import { MAX_MESSAGES, summarizeAndPost, type SummarizeCommandOptions } from '../commands/summarize.ts';

/** Summarizes `channelId` (from `fromMessage` on, else all of it) as `/summarize` with no options would. */
export async function summarizeFromMenu(
  interaction: MessageContextMenuCommandInteraction<'cached'>,
  ctx: CommandContext,
  options: SummarizeCommandOptions,
  channelId: string,
  fromMessage?: Message<true>,
): Promise<void> {
  const channel = await summarizableChannel(interaction.guild, channelId);
  await requireMemberCanRead(channel, interaction.member, channel.id === interaction.channelId);
  await requireBotCanRead(channel);
  const since =
    fromMessage === undefined
      ? undefined
      : { kind: 'after-message' as const, guildId: interaction.guildId, channelId: channel.id, messageId: fromMessage.id, sinceMs: fromMessage.createdTimestamp };
  const request = {
    channel,
    maxMessages: MAX_MESSAGES,
    since,
    routing: { category: undefined, type: undefined, perspective: undefined },
    private: false,
  };
  await summarizeAndPost(interaction, request, ctx, options);
}

export function menuCommandData(name: string, localizations: LocalizationMap): RESTPostAPIContextMenuApplicationCommandsJSONBody {
  return new ContextMenuCommandBuilder()
    .setName(name)
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild)
    .setNameLocalizations(localizations)
    .toJSON();
}

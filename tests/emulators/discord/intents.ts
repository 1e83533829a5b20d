/** Gateway intents: which events a session may receive and whether it may read message content. */
import type { ApiMessage } from './model.ts';

export const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

export const PRIVILEGED_INTENTS = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;

/**
 * Without MESSAGE_CONTENT Discord blanks content, embeds, attachments and components, except in
 * DMs, on the bot's own messages and on messages that mention the bot.
 */
export function messageVisibleTo(intents: number, message: ApiMessage, botId: string, isDm: boolean): ApiMessage {
  if (intents & Intent.MessageContent) return message;
  if (isDm || message.author.id === botId || message.mentions.some((u) => u.id === botId)) return message;
  return { ...message, content: '', embeds: [], attachments: [], components: [] };
}

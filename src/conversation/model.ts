/**
 * The conversation model the engine works on. It knows nothing of discord.js
 * or of any export format: importers and the bot translate into it.
 */

export interface Author {
  id: string;
  /** Nickname in the guild when known, else global name, else username. */
  displayName: string;
  bot: boolean;
}

export interface Attachment {
  fileName: string;
  url?: string;
  sizeBytes?: number;
}

export interface EmbedField {
  name: string;
  value: string;
}

export interface Embed {
  title?: string;
  description?: string;
  url?: string;
  /** Name/value pairs, where bots put most of what they say. */
  fields?: EmbedField[];
}

export interface Sticker {
  name: string;
}

export interface Reaction {
  emoji: string;
  count: number;
}

export interface Mention {
  id: string;
  displayName: string;
}

export interface Message {
  id: string;
  author: Author;
  /** Always timezone-aware; stored as epoch milliseconds to make comparisons unambiguous. */
  timestamp: number;
  content: string;
  replyTo?: string;
  attachments: Attachment[];
  embeds: Embed[];
  stickers: Sticker[];
  reactions: Reaction[];
  mentions: Mention[];
  threadId?: string;
  jumpUrl?: string;
  /**
   * Set when the message is a platform notice kept as a short marker rather
   * than member text (for example "pinned a message", "started a thread").
   * `replyTo` then names the message the notice refers to, when known.
   */
  notice?: string;
}

export interface ConversationSource {
  guildId?: string;
  guildName?: string;
  channelId: string;
  channelName: string;
  /** Discord channel category name, when known. */
  channelCategory?: string;
  threadId?: string;
  /** The thread's own name when `threadId` is set, when known. */
  threadName?: string;
}

/**
 * Names known for ids that member text can reference (`<@id>`, `<#id>`,
 * `<@&id>`), so renderers can show names instead of raw ids. Keys are
 * Discord ids (digits only).
 */
export interface NameDirectory {
  users?: Record<string, string>;
  channels?: Record<string, string>;
  roles?: Record<string, string>;
}

export interface Conversation {
  source: ConversationSource;
  messages: Message[];
  names?: NameDirectory;
}

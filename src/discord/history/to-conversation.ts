/**
 * discord.js messages into the conversation model. Only here does the
 * engine's input touch discord.js; everything past this point is
 * platform-neutral.
 *
 * System notices that say something about the discussion (pins, thread
 * starts) are kept as short notices; joins, boosts, call and stage events and
 * the like are left out as noise.
 */
import { MessageReferenceType, MessageType, type Guild, type Message as DiscordMessage } from 'discord.js';
import type { Conversation, ConversationSource, Message, NameDirectory } from '../../conversation/model.ts';

const KEPT_TYPES: ReadonlySet<MessageType> = new Set([MessageType.Default, MessageType.Reply, MessageType.ChatInputCommand, MessageType.ContextMenuCommand]);
const NOTICES: ReadonlyMap<MessageType, string> = new Map([
  [MessageType.ChannelPinnedMessage, 'pinned a message'],
  [MessageType.ThreadCreated, 'started a thread'],
]);

const MENTION = /<(@!?|@&|#)(\d{1,20})>/g;

export interface ConvertContext {
  /** Display names known for user ids (guild nicknames), preferred over the author's global name. */
  memberName(userId: string): string | undefined;
  /** Set when the messages are a thread's. */
  threadId?: string;
}

/** One message, or undefined when it is a notice not worth reading. */
export function toModelMessage(message: DiscordMessage, context: ConvertContext): Message | undefined {
  const notice = NOTICES.get(message.type);
  if (notice === undefined && !KEPT_TYPES.has(message.type)) return undefined;
  const author = message.author;
  const converted: Message = {
    id: message.id,
    author: {
      id: author.id,
      displayName: context.memberName(author.id) ?? author.globalName ?? author.username,
      bot: author.bot || message.webhookId !== null,
    },
    timestamp: message.createdTimestamp,
    content: notice === undefined ? contentOf(message) : '',
    attachments: message.attachments.map((a) => ({ fileName: a.name, url: a.url, sizeBytes: a.size })),
    embeds: message.embeds.map((e) => ({
      ...(e.title ? { title: e.title } : {}),
      ...(e.description ? { description: e.description } : {}),
      ...(e.url ? { url: e.url } : {}),
      ...(e.fields.length > 0 ? { fields: e.fields.map((f) => ({ name: f.name, value: f.value })) } : {}),
    })),
    stickers: message.stickers.map((s) => ({ name: s.name })),
    reactions: message.reactions.cache.map((r) => ({ emoji: r.emoji.name ?? r.emoji.id ?? '?', count: r.count })),
    mentions: message.mentions.users.map((u) => ({ id: u.id, displayName: context.memberName(u.id) ?? u.globalName ?? u.username })),
    jumpUrl: message.url,
  };
  const reference = message.reference;
  if (reference?.messageId && reference.type !== MessageReferenceType.Forward && (message.type === MessageType.Reply || notice !== undefined)) {
    converted.replyTo = reference.messageId;
  }
  if (notice !== undefined) converted.notice = notice;
  if (context.threadId !== undefined) converted.threadId = context.threadId;
  return converted;
}

/** The text a member wrote, with forwarded text and poll questions folded in. */
function contentOf(message: DiscordMessage): string {
  const parts = [message.content];
  const forwarded = message.reference?.type === MessageReferenceType.Forward ? message.messageSnapshots.first() : undefined;
  if (forwarded !== undefined && forwarded.content) parts.push(`(forwarded) ${forwarded.content}`);
  if (message.poll) parts.push(`(poll) ${message.poll.question.text ?? ''}`);
  return parts.filter((p) => p.trim() !== '').join('\n');
}

/**
 * Names for the ids member text mentions (`<@id>`, `<#id>`, `<@&id>`), from
 * what the client knows: the messages' own mention lists and the guild's
 * cached members, channels and roles. Only referenced ids are listed.
 */
function nameDirectory(messages: readonly DiscordMessage[], guild: Guild | null, memberName: (userId: string) => string | undefined): NameDirectory {
  const users: Record<string, string> = {};
  const channels: Record<string, string> = {};
  const roles: Record<string, string> = {};
  for (const message of messages) {
    for (const user of message.mentions.users.values()) users[user.id] ??= memberName(user.id) ?? user.globalName ?? user.username;
    for (const role of message.mentions.roles.values()) roles[role.id] ??= role.name;
    for (const [, kind, id] of message.content.matchAll(MENTION)) {
      if (id === undefined) continue;
      if (kind === '#') {
        const channel = guild?.channels.cache.get(id);
        if (channel !== undefined) channels[id] ??= channel.name;
      } else if (kind === '@&') {
        const role = guild?.roles.cache.get(id);
        if (role !== undefined) roles[id] ??= role.name;
      } else {
        const name = memberName(id);
        if (name !== undefined) users[id] ??= name;
      }
    }
  }
  return { users, channels, roles };
}

export interface ConversationInput {
  messages: readonly DiscordMessage[];
  source: ConversationSource;
  guild: Guild | null;
  memberName(userId: string): string | undefined;
}

export function toConversation(input: ConversationInput): Conversation {
  const context: ConvertContext = { memberName: input.memberName, ...(input.source.threadId === undefined ? {} : { threadId: input.source.threadId }) };
  const messages: Message[] = [];
  for (const message of input.messages) {
    const converted = toModelMessage(message, context);
    if (converted !== undefined) messages.push(converted);
  }
  return { source: input.source, messages, names: nameDirectory(input.messages, input.guild, input.memberName) };
}

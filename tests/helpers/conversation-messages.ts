/**
 * Conversation messages for tests that build a conversation by hand rather
 * than import one: text only, unless `extra` adds attachments, embeds,
 * stickers, reactions, mentions or a reply.
 */
import type { Author, Message } from '../../src/conversation/model.ts';

export function textMessage(id: string, author: Author, timestamp: number, content: string, extra: Partial<Message> = {}): Message {
  return { id, author, timestamp, content, attachments: [], embeds: [], stickers: [], reactions: [], mentions: [], ...extra };
}

/**
 * Conversation messages for tests that build a conversation by hand rather
 * than import one: text only, unless `extra` adds attachments, embeds,
 * stickers, reactions, mentions or a reply.
 */
import type { Author, Message } from '../../src/conversation/model.ts';

export function textMessage(id: string, author: Author, timestamp: number, content: string, extra: Partial<Message> = {}): Message {
  return { id, author, timestamp, content, attachments: [], embeds: [], stickers: [], reactions: [], mentions: [], ...extra };
}

/** Everyday channel talk with nothing to do with a release: what retrieval must rank below the answer. */
export const CHANNEL_CHATTER = [
  'anyone up for lunch at the thai place?',
  'the coffee machine on floor 3 is broken again',
  'I pushed a fix for the login timeout, review welcome',
  'staging database is back up',
  'can we move the retro to Thursday?',
  'benchmarks look 12% faster after the cache change',
  'docs for the new API are in the wiki',
  'who is on call this weekend?',
];

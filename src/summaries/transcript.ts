/**
 * The conversation (or a part of it) as the user turn of a call, and as the
 * structured attachment the offline provider reads.
 */
import { formatForModel } from '../conversation/format-for-model.ts';
import type { PreparedConversation, PreparedMessage } from '../conversation/prepare.ts';
import type { RequestAttachments } from '../llm/provider-spec/contract.ts';
import { sha256 } from './request-key.ts';

/** A part of the conversation keeps the global reference numbers, so citations survive map-reduce. */
function partOf(prepared: PreparedConversation, messages: readonly PreparedMessage[]): PreparedConversation {
  const first = messages[0];
  const last = messages.at(-1);
  const { firstTimestamp: _f, lastTimestamp: _l, ...stats } = prepared.stats;
  return {
    source: prepared.source,
    messages: [...messages],
    citations: prepared.citations,
    stats: {
      ...stats,
      kept: messages.length,
      ...(first !== undefined && last !== undefined ? { firstTimestamp: first.timestamp, lastTimestamp: last.timestamp } : {}),
    },
  };
}

/** The user turn of a map call. Depends only on the part's own messages, so a retry builds the same text (and key). */
export function chunkTurn(prepared: PreparedConversation, messages: readonly PreparedMessage[]): string {
  const first = messages[0]?.ref;
  const last = messages.at(-1)?.ref;
  const lead = first === undefined ? 'This part holds no messages.' : `This part holds messages [${first}] to [${last}] of a longer conversation.`;
  return `${lead}\n${formatForModel(partOf(prepared, messages))}`;
}

export function messageAttachments(messages: readonly PreparedMessage[]): NonNullable<RequestAttachments['messages']> {
  return messages.map((m) => ({
    ref: m.ref,
    author: m.authorName,
    content: m.notice !== undefined ? `(${m.notice})` : m.text,
    timestamp: new Date(m.timestamp).toISOString(),
    ...(m.notice !== undefined ? { notice: true } : {}),
    ...(m.reply?.kind === 'in-transcript' ? { replyTo: m.reply.ref } : {}),
  }));
}

/**
 * sha-256 of everything of the conversation a call carries: the transcript
 * text the model reads (texts, attachment and sticker markers, replies,
 * reactions, the header), the structured attachment the offline provider
 * reads, and the message ids the citations link to.
 */
export function transcriptDigest(prepared: PreparedConversation): string {
  return sha256(
    JSON.stringify([
      formatForModel(prepared),
      messageAttachments(prepared.messages),
      prepared.messages.map((m) => m.id),
    ]),
  );
}

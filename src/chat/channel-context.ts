/**
 * What chat knows of the channels around a question: the messages of their
 * recent history that best match it (BM25, see `relevance.ts`), each with
 * its neighbours for context, numbered afresh so the answer can cite them
 * like a summary does, and laid out as one delimited transcript block.
 */
import { formatLine } from '../conversation/format-for-model.ts';
import type { Citation, PreparedConversation, PreparedMessage } from '../conversation/prepare.ts';
import { CONVERSATION_CLOSE, CONVERSATION_OPEN, safeName } from '../conversation/text-safety.ts';
import { estimateTokens, type RequestAttachments } from '../llm/provider-spec/contract.ts';
import { bm25Scores } from './relevance.ts';

/** One channel's recent history, already read and prepared (bots and questions to the bot left out). */
export interface ChannelHistory {
  channelId: string;
  /** As members see it: the channel's or thread's name. */
  channelName: string;
  prepared: PreparedConversation;
}

export interface RetrievalLimits {
  /** Best-matching messages taken (default 8). */
  hits?: number;
  /** Messages taken on each side of a hit (default 1). */
  neighbours?: number;
  /** Bound on the transcript block, in tokens (default 3,000). */
  maxTokens?: number;
}

export interface ChannelContext {
  /** The transcript block for the model; empty when nothing matched. */
  block: string;
  /** The matching messages, best first, numbered as in the block (for providers that work without a model). */
  hits: NonNullable<RequestAttachments['messages']>;
  /** Reference number in the block → the message. */
  citations: ReadonlyMap<number, Citation>;
}

export const NO_CONTEXT: ChannelContext = Object.freeze({ block: '', hits: [], citations: new Map() }) as ChannelContext;

interface Candidate {
  channel: number;
  index: number;
  score: number;
}

export function retrieveContext(question: string, histories: readonly ChannelHistory[], limits: RetrievalLimits = {}): ChannelContext {
  const hitCount = limits.hits ?? 8;
  const neighbours = limits.neighbours ?? 1;
  const maxTokens = limits.maxTokens ?? 3_000;

  const documents: Candidate[] = [];
  const texts: string[] = [];
  histories.forEach((history, channel) =>
    history.prepared.messages.forEach((message, index) => {
      if (message.notice !== undefined) return;
      documents.push({ channel, index, score: 0 });
      texts.push(message.text);
    }),
  );
  const scores = bm25Scores(question, texts);
  const ranked = documents
    .map((d, i) => ({ ...d, score: scores[i] ?? 0 }))
    .filter((d) => d.score > 0)
    // Equal scores: the newer message first, as the later word on a subject usually stands.
    .sort((a, b) => b.score - a.score || b.channel - a.channel || b.index - a.index)
    .slice(0, hitCount);
  if (ranked.length === 0) return NO_CONTEXT;

  // Best hits first, each with its neighbours, while the block has room.
  const chosen = histories.map(() => new Set<number>());
  const hitKeys: Candidate[] = [];
  let tokens = 0;
  for (const hit of ranked) {
    const messages = histories[hit.channel]!.prepared.messages;
    const window: number[] = [];
    for (let i = Math.max(0, hit.index - neighbours); i <= Math.min(messages.length - 1, hit.index + neighbours); i++) {
      if (!chosen[hit.channel]!.has(i)) window.push(i);
    }
    const cost = (indexes: readonly number[]) => indexes.reduce((sum, i) => sum + estimateTokens(formatLine(messages[i]!)), 0);
    // Without its neighbours when they do not fit; not at all when the hit alone does not.
    const fits = [window, window.filter((i) => i === hit.index)].find((indexes) => tokens + cost(indexes) <= maxTokens);
    if (fits === undefined) {
      if (chosen[hit.channel]!.has(hit.index)) hitKeys.push(hit);
      continue;
    }
    tokens += cost(fits);
    for (const i of fits) chosen[hit.channel]!.add(i);
    if (chosen[hit.channel]!.has(hit.index)) hitKeys.push(hit);
  }

  // Numbered in reading order: channel by channel, oldest first.
  const refOf = new Map<string, number>();
  const citations = new Map<number, Citation>();
  const lines = [CONVERSATION_OPEN];
  let ref = 0;
  histories.forEach((history, channel) => {
    const indexes = [...chosen[channel]!].sort((a, b) => a - b);
    if (indexes.length === 0) return;
    lines.push(`Channel: #${safeName(history.channelName, 100)}`);
    const messages = history.prepared.messages;
    const renumbered = new Map(indexes.map((i, k) => [messages[i]!.ref, ref + k + 1]));
    let previous = -1;
    for (const i of indexes) {
      if (previous !== -1 && i > previous + 1) lines.push('…');
      previous = i;
      const message = messages[i]!;
      ref = renumbered.get(message.ref)!;
      refOf.set(`${channel}:${i}`, ref);
      lines.push(formatLine(renumber(message, ref, renumbered)));
      citations.set(ref, citationOf(message));
    }
  });
  lines.push(CONVERSATION_CLOSE);

  const hits = hitKeys.flatMap((hit) => {
    const number = refOf.get(`${hit.channel}:${hit.index}`);
    const message = histories[hit.channel]!.prepared.messages[hit.index]!;
    return number === undefined ? [] : [{ ref: number, author: message.authorName, content: message.text, timestamp: new Date(message.timestamp).toISOString() }];
  });
  return { block: lines.join('\n'), hits, citations };
}

/** The message under its number in the block; a reply points at the replied message's new number, or says it is elsewhere. */
function renumber(message: PreparedMessage, ref: number, renumbered: ReadonlyMap<number, number>): PreparedMessage {
  const copy: PreparedMessage = { ...message, ref };
  if (message.reply?.kind === 'in-transcript') {
    const target = renumbered.get(message.reply.ref);
    copy.reply = target === undefined ? { kind: 'earlier' } : { kind: 'in-transcript', ref: target };
  }
  return copy;
}

function citationOf(message: PreparedMessage): Citation {
  return { messageId: message.id, authorName: message.authorName, timestamp: message.timestamp, ...(message.jumpUrl === undefined ? {} : { jumpUrl: message.jumpUrl }) };
}

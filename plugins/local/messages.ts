/** The numbered messages the engine attaches, and picking the most representative ones. */
import { rank, selectTop } from './rank.ts';
import type { Corpus } from './text-features.ts';
import { buildCorpus } from './text-features.ts';

export interface NumberedMessage {
  ref: number;
  author: string;
  content: string;
  timestamp: string;
  /** A platform notice (pinned a message, started a thread), not something a member wrote. */
  notice?: boolean;
  /** The reference number of the message this one replies to, when it is in the conversation. */
  replyTo?: number;
}

/** Picks that say the same thing (cosine above this) count once. */
const NEAR_DUPLICATE = 0.75;
/** Weight of redundancy against centrality when picking (maximal marginal relevance). */
const DIVERSITY = 0.3;

export interface Analysis {
  /** In reference order (chronological). */
  messages: readonly NumberedMessage[];
  corpus: Corpus;
  scores: number[];
}

export function analyse(input: readonly NumberedMessage[]): Analysis {
  const messages = [...input].sort((a, b) => a.ref - b.ref);
  const corpus = buildCorpus(messages.map((message) => message.content));
  const centrality = rank(corpus.vectors);
  // One- and two-word messages ("ship it", "+1") are rarely worth quoting even when central.
  const scores = centrality.map((score, index) => score * Math.min(1, 0.55 + 0.15 * (corpus.lengths[index] ?? 0)));
  return { messages, corpus, scores };
}

/** The `count` most representative messages, in chronological order. */
export function pickRepresentative(analysis: Analysis, count: number): NumberedMessage[] {
  const { messages, corpus, scores } = analysis;
  let eligible = messages.flatMap((_, index) => ((corpus.lengths[index] ?? 0) > 0 ? [index] : []));
  // Nothing but "ok", "lol" and emoji: fall back to the longest messages rather than saying nothing.
  if (eligible.length === 0) {
    eligible = messages
      .flatMap((message, index) => (message.content.trim() ? [index] : []))
      .sort((a, b) => (messages[b]?.content.length ?? 0) - (messages[a]?.content.length ?? 0) || a - b)
      .slice(0, count);
  }
  const picked = selectTop(scores, corpus.vectors, eligible, { count, maxSimilarity: NEAR_DUPLICATE, diversity: DIVERSITY });
  return picked.sort((a, b) => a - b).flatMap((index) => (messages[index] ? [messages[index]] : []));
}

/** The conversation's most weighty terms, for the comprehensive layout's topic line. */
export function topTerms(analysis: Analysis, count: number): string[] {
  return [...analysis.corpus.terms.entries()]
    .filter(([, term]) => term.surface.length > 2)
    .sort(([a, x], [b, y]) => y.weight - x.weight || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, count)
    .map(([, term]) => term.surface);
}

/**
 * Extractive summaries of numbered messages. The conversation is cut into
 * segments (pauses and topic shifts); every segment gets key messages in
 * proportion to its size; decisions, unanswered questions and action items
 * with an owner are listed on their own. Noise, spam and small talk are
 * never key points. How many points there are grows with the conversation
 * and is bounded by the summary type and the answer's token budget.
 */
import { findActionItems } from './action-items.ts';
import { classify, type MessageKind } from './classify.ts';
import type { NumberedMessage } from './messages.ts';
import { fitOutline, type Item, type Outline, type Topic } from './outline.ts';
import { perspectiveOf, type Perspective } from './perspective.ts';
import { rank, selectTop } from './rank.ts';
import { clean, clock, countByAuthor, formatPeriod, header, participantsLine } from './render.ts';
import { segment, type Segment } from './segment.ts';
import type { Shape } from './shapes.ts';
import { shapeOf } from './shapes.ts';
import { buildCorpus, tokenize, type Corpus } from './text-features.ts';

export interface SummaryOptions {
  perspective?: string | undefined;
  /** The answer's budget; the summary is trimmed to fit it. */
  maxTokens?: number;
}

interface Limits {
  /** Topic key points: `perMessage × √messages`, within [min, max]. */
  perMessage: number;
  min: number;
  max: number;
  decisions: number;
  questions: number;
  actions: number;
}

const LIMITS: Readonly<Record<Shape, Limits>> = {
  brief: { perMessage: 0.25, min: 2, max: 4, decisions: 2, questions: 1, actions: 0 },
  detailed: { perMessage: 1.2, min: 3, max: 24, decisions: 15, questions: 8, actions: 10 },
  comprehensive: { perMessage: 2, min: 6, max: 48, decisions: 30, questions: 15, actions: 20 },
  action_items: { perMessage: 0, min: 0, max: 0, decisions: 0, questions: 0, actions: 25 },
};

/** Quotes in longer summaries are cut shorter, so more of the conversation fits. */
const QUOTE_CHARS: Readonly<Record<Shape, number>> = { brief: 240, detailed: 200, comprehensive: 240, action_items: 240 };
const NEAR_DUPLICATE = 0.75;
const DIVERSITY = 0.3;
const DEFAULT_MAX_TOKENS = 4000;
/** A question counts as answered when a following message shares this much of its vocabulary. */
const ANSWER_OVERLAP = 0.3;
const ANSWER_WINDOW = 4;
/** A reply that starts like an answer ("yes", "I can", "me", "it's …") answers the question before it. */
const ANSWER_START = /^(?:yes|yeah|yep|yup|no|nope|nah|sure|me\b|i can|i'll|i will|i'm on|i am on|i think|it's|it is|that's|that is|because|probably|definitely|not yet|done|we do|we don't|you can|just)\b/;
const SELF_COMMITMENT = /\b(?:i'll|i will|i'm going to|i can take)\b/;

export function summarizeMessages(input: readonly NumberedMessage[], summaryType: string | undefined, options: SummaryOptions = {}): string {
  if (input.length === 0) return `${header('no messages to summarize')}\n\nNothing was said in this period.`;
  const shape = shapeOf(summaryType);
  const perspective = perspectiveOf(options.perspective);
  const moderation = summaryType === 'moderation' || options.perspective === 'moderation';
  const outline = buildOutline(input, shape, perspective, moderation);
  return fitOutline(outline, shape, perspective, options.maxTokens ?? DEFAULT_MAX_TOKENS);
}

function buildOutline(input: readonly NumberedMessage[], shape: Shape, perspective: Perspective, moderation: boolean): Outline {
  const messages = [...input].sort((a, b) => a.ref - b.ref);
  const kinds = classify(messages);
  const corpus = buildCorpus(messages.map((m) => m.content));
  // Quotes in summaries of long conversations are cut shorter, so more of the window fits.
  const quoteChars = messages.length > 500 ? Math.min(140, QUOTE_CHARS[shape]) : QUOTE_CHARS[shape];
  const limits = LIMITS[shape];
  const quote = (m: NumberedMessage): string => `${clean(m.author, 64)}: ${clean(m.content, quoteChars)}`;
  const substantive = (i: number): boolean => {
    const kind = kinds[i]!;
    return !kind.noise && !kind.spam && !kind.social;
  };
  const used = new Set<number>();
  const item = (i: number, rankValue: number, body?: string): Item => {
    used.add(i);
    return { body: body ?? quote(messages[i]!), refs: [messages[i]!.ref], rank: rankValue };
  };

  // A decision is an action item only when someone takes it on in the same breath ("…, I will confirm by Monday").
  const actionCandidates = messages.filter((m, i) => substantive(i) && (!kinds[i]!.decision || SELF_COMMITMENT.test(m.content.toLowerCase())));
  const actions = findActionItems(actionCandidates, limits.actions)
    // Precision over recall: an item nobody in particular owns is left out.
    .filter((a) => a.owner !== 'team' && a.owner !== 'unassigned')
    .map((a, order) => {
      const index = messages.indexOf(a.message);
      const who = a.raisedBy === undefined ? clean(a.owner, 64) : `${clean(a.owner, 64)} (asked by ${clean(a.raisedBy, 64)})`;
      const due = a.due ? ` (due: ${clean(a.due, 40)})` : '';
      return item(index, order - a.score * 10, `${who}: ${clean(a.message.content, quoteChars)}${due}`);
    });
  const actionIndices = new Set(actions.flatMap((a) => a.refs));

  const decisions = messages
    .flatMap((m, i) => (kinds[i]!.decision && substantive(i) ? [i] : []))
    .slice(0, limits.decisions)
    .map((i, order) => item(i, order));

  const questions = openQuestions(messages, kinds, corpus, perspective)
    .filter((i) => !actionIndices.has(messages[i]!.ref) && !used.has(i))
    .slice(0, limits.questions)
    .map((i, order) => item(i, order));

  const times = messages.map((m) => Date.parse(m.timestamp));
  for (let i = 0; i < times.length; i++) if (Number.isNaN(times[i])) times[i] = i > 0 ? times[i - 1]! : 0;
  const period = formatPeriod(messages);
  const budget = Math.round(Math.min(limits.max, Math.max(limits.min, limits.perMessage * Math.sqrt(messages.length))));
  const topics = budget === 0 ? [] : keyMessages(messages, kinds, corpus, times, perspective, budget, used, substantive, period?.spansDays ?? false).map((t) => ({
    ...t,
    points: t.indices.map((i, order) => item(i, order)),
  }));

  const outline: Outline = {
    source: `${messages.length} message${messages.length === 1 ? '' : 's'}`,
    participants: participantsLine(countByAuthor(messages)),
    ...(period ? { period: `${period.text}, ${messages.length} message${messages.length === 1 ? '' : 's'}` } : {}),
    decisions: shape === 'action_items' ? [] : decisions,
    topics: topics.map(({ indices: _indices, ...topic }) => topic),
    questions: shape === 'action_items' ? [] : questions,
    actions: shape === 'brief' ? [] : actions,
  };
  if (moderation) outline.moderation = messages.flatMap((m, i) => (kinds[i]!.spam ? [{ body: quote(m), refs: [m.ref], rank: i }] : []));
  return outline;
}

/** Questions nobody answered: no reply to them, and nothing after them that takes up their words. */
function openQuestions(messages: readonly NumberedMessage[], kinds: readonly MessageKind[], corpus: Corpus, perspective: Perspective): number[] {
  const stems = messages.map((m) => new Set(tokenize(m.content).map((t) => t.stem)));
  const repliedTo = new Set(messages.flatMap((m) => (m.replyTo === undefined ? [] : [m.replyTo])));
  const open: number[] = [];
  messages.forEach((message, i) => {
    const kind = kinds[i]!;
    const candidate = kind.question || (perspective.unresolvedProblems && kind.problem && (corpus.lengths[i] ?? 0) >= 6);
    if (!candidate || kind.noise || kind.spam || kind.social) return;
    if (repliedTo.has(message.ref)) return;
    const asked = stems[i]!;
    const needed = Math.max(2, Math.ceil(ANSWER_OVERLAP * asked.size));
    let answered = false;
    for (let next = i + 1, seen = 0; next < messages.length && seen < ANSWER_WINDOW; next++) {
      const reply = messages[next]!;
      if (reply.author === message.author || kinds[next]!.noise || kinds[next]!.spam) continue;
      seen++;
      let shared = 0;
      for (const stem of stems[next]!) if (asked.has(stem)) shared++;
      if (shared >= needed || (kind.question && ANSWER_START.test(reply.content.toLowerCase().trim())) || (perspective.unresolvedProblems && kinds[next]!.outcome)) {
        answered = true;
        break;
      }
    }
    if (!answered) open.push(i);
  });
  return open;
}

interface TopicPick extends Omit<Topic, 'points'> {
  indices: number[];
}

function keyMessages(
  messages: readonly NumberedMessage[],
  kinds: readonly MessageKind[],
  corpus: Corpus,
  times: readonly number[],
  perspective: Perspective,
  budget: number,
  used: ReadonlySet<number>,
  substantive: (i: number) => boolean,
  spansDays: boolean,
): TopicPick[] {
  const eligibleIn = (s: Segment): number[] => {
    const out: number[] = [];
    for (let i = s.start; i < s.end; i++) if (substantive(i) && (corpus.lengths[i] ?? 0) >= 3) out.push(i);
    return out;
  };
  let segments = segment(times, corpus.vectors).map((s) => ({ ...s, eligible: eligibleIn(s) }));
  // More segments than points: merge the smallest with its smaller neighbour until each can have one.
  while (segments.filter((s) => s.eligible.length > 0).length > budget && segments.length > 1) {
    let smallest = 0;
    segments.forEach((s, i) => {
      if (s.end - s.start < segments[smallest]!.end - segments[smallest]!.start) smallest = i;
    });
    const left = segments[smallest - 1];
    const right = segments[smallest + 1];
    const neighbour = !right || (left && left.end - left.start <= right.end - right.start) ? smallest - 1 : smallest + 1;
    const [a, b] = neighbour < smallest ? [neighbour, smallest] : [smallest, neighbour];
    const merged = { start: segments[a]!.start, end: segments[b]!.end, eligible: [...segments[a]!.eligible, ...segments[b]!.eligible] };
    segments = [...segments.slice(0, a), merged, ...segments.slice(b + 1)];
  }
  const shares = allocate(segments.map((s) => s.eligible.length), budget);
  return segments.map((s, index) => {
    const candidates = s.eligible.filter((i) => !used.has(i));
    const vectors = candidates.map((i) => corpus.vectors[i]!);
    const centrality = rank(vectors);
    const scores = candidates.map((i, k) => (centrality[k] ?? 0) * Math.min(1, 0.55 + 0.1 * (corpus.lengths[i] ?? 0)) * perspective.weight(kinds[i]!));
    const picked = selectTop(scores, vectors, candidates.map((_, k) => k), { count: shares[index] ?? 0, maxSimilarity: NEAR_DUPLICATE, diversity: DIVERSITY });
    const first = new Date(times[s.start] ?? 0);
    const last = new Date(times[s.end - 1] ?? 0);
    return {
      when: `${clock(first, true)}–${clock(last, spansDays && first.toISOString().slice(0, 10) !== last.toISOString().slice(0, 10))}`,
      terms: segmentTerms(corpus, s.eligible.length > 0 ? s.eligible : range(s.start, s.end), 3).join(', ') || 'messages',
      messages: s.end - s.start,
      indices: picked.map((k) => candidates[k]!).sort((a, b) => a - b),
    };
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** One point for each segment that has anything to quote, the rest in proportion to size (largest remainder). */
function allocate(sizes: readonly number[], budget: number): number[] {
  const shares = sizes.map((size): number => (size > 0 ? 1 : 0));
  let left = budget - shares.reduce((a, b) => a + b, 0);
  if (left <= 0) return shares;
  const total = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((size) => (size / total) * left);
  const extra = exact.map((x, i) => Math.min(Math.floor(x), Math.max(0, (sizes[i] ?? 0) - (shares[i] ?? 0))));
  extra.forEach((x, i) => (shares[i] = (shares[i] ?? 0) + x));
  left -= extra.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if ((shares[i] ?? 0) < (sizes[i] ?? 0)) {
      shares[i] = (shares[i] ?? 0) + 1;
      left--;
    }
  }
  return shares;
}

/** The segment's weightiest words: summed TF-IDF, ties alphabetical. */
function segmentTerms(corpus: Corpus, indices: readonly number[], count: number): string[] {
  const sums = new Map<string, number>();
  for (const i of indices) for (const [term, weight] of corpus.vectors[i] ?? []) sums.set(term, (sums.get(term) ?? 0) + weight);
  return [...sums.entries()]
    .filter(([term]) => (corpus.terms.get(term)?.surface.length ?? 0) > 2)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, count)
    .map(([term]) => clean(corpus.terms.get(term)?.surface ?? term, 30));
}

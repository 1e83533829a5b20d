/**
 * Cutting a conversation into segments: first at long pauses (long relative
 * to how fast this channel talks), then, inside a long segment, where the
 * vocabulary of the messages before and after a point has least in common
 * (a topic shift, in the manner of TextTiling).
 */
import type { Vector } from './text-features.ts';
import { cosine } from './text-features.ts';

export interface Segment {
  /** Indices into the messages, [start, end). */
  start: number;
  end: number;
}

/** A pause at least this long always starts a new segment. */
const LONG_PAUSE_MS = 60 * 60_000;
/** A pause shorter than this never does. */
const SHORT_PAUSE_MS = 10 * 60_000;
/** A pause this many times the median gap counts as long for this channel. */
const PAUSE_FACTOR = 5;
/** Below this similarity between the two sides of a point, the topic shifted. */
const SHIFT_SIMILARITY = 0.08;

export function segment(times: readonly number[], vectors: readonly Vector[]): Segment[] {
  const n = times.length;
  if (n === 0) return [];
  const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const pause = Math.min(LONG_PAUSE_MS, Math.max(SHORT_PAUSE_MS, PAUSE_FACTOR * median));
  const byPause: Segment[] = [];
  let start = 0;
  gaps.forEach((gap, i) => {
    if (gap >= pause) {
      byPause.push({ start, end: i + 1 });
      start = i + 1;
    }
  });
  byPause.push({ start, end: n });
  return byPause.flatMap((s) => splitByTopic(s, vectors, gaps));
}

function centroid(vectors: readonly Vector[], from: number, to: number): Map<string, number> {
  const sum = new Map<string, number>();
  for (let i = from; i < to; i++) for (const [term, weight] of vectors[i] ?? []) sum.set(term, (sum.get(term) ?? 0) + weight);
  let norm = 0;
  for (const weight of sum.values()) norm += weight * weight;
  norm = Math.sqrt(norm) || 1;
  for (const [term, weight] of sum) sum.set(term, weight / norm);
  return sum;
}

/** Splits at the weakest point of lexical cohesion while one is weak enough and both sides stay substantial. */
function splitByTopic(s: Segment, vectors: readonly Vector[], gaps: readonly number[]): Segment[] {
  const length = s.end - s.start;
  const window = Math.max(3, Math.min(40, Math.floor(length / 8)));
  const minSide = Math.max(4, window);
  if (length < 2 * minSide) return [s];
  let best = -1;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let cut = s.start + minSide; cut <= s.end - minSide; cut++) {
    const left = centroid(vectors, Math.max(s.start, cut - window), cut);
    const right = centroid(vectors, cut, Math.min(s.end, cut + window));
    // A pause at the point makes it a likelier boundary.
    const gap = gaps[cut - 1] ?? 0;
    const score = cosine(left, right) - (gap > 0 ? Math.min(0.05, gap / (20 * 60 * 60_000)) : 0);
    if (score < bestScore) {
      bestScore = score;
      best = cut;
    }
  }
  if (best < 0 || bestScore >= SHIFT_SIMILARITY) return [s];
  return [...splitByTopic({ start: s.start, end: best }, vectors, gaps), ...splitByTopic({ start: best, end: s.end }, vectors, gaps)];
}

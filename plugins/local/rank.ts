/**
 * Ranks documents by how central they are to the conversation. TextRank
 * (PageRank over the cosine-similarity graph) for ordinary sizes; for very
 * long inputs, where the O(n²) graph gets expensive, similarity to the
 * centroid. Fully deterministic: fixed iteration count, ties by index.
 */
import type { Vector } from './text-features.ts';
import { cosine } from './text-features.ts';

const DAMPING = 0.85;
const ITERATIONS = 60;
/** Above this many documents the similarity graph is skipped in favour of centroid ranking. */
const TEXTRANK_LIMIT = 1000;

function textRank(vectors: readonly Vector[]): number[] {
  const n = vectors.length;
  if (n === 0) return [];
  const similarity = new Float64Array(n * n);
  const outWeight = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = vectors[i];
    if (!a) continue;
    for (let j = i + 1; j < n; j++) {
      const b = vectors[j];
      if (!b) continue;
      const s = cosine(a, b);
      if (s <= 0) continue;
      similarity[i * n + j] = s;
      similarity[j * n + i] = s;
      outWeight[i] = (outWeight[i] ?? 0) + s;
      outWeight[j] = (outWeight[j] ?? 0) + s;
    }
  }
  let scores = new Float64Array(n).fill(1 / n);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const next = new Float64Array(n).fill((1 - DAMPING) / n);
    for (let j = 0; j < n; j++) {
      const out = outWeight[j] ?? 0;
      if (out === 0) continue;
      const share = (DAMPING * (scores[j] ?? 0)) / out;
      for (let i = 0; i < n; i++) {
        const s = similarity[j * n + i] ?? 0;
        if (s !== 0) next[i] = (next[i] ?? 0) + share * s;
      }
    }
    scores = next;
  }
  return Array.from(scores);
}

function centroidRank(vectors: readonly Vector[]): number[] {
  const centroid = new Map<string, number>();
  for (const vector of vectors) for (const [term, weight] of vector) centroid.set(term, (centroid.get(term) ?? 0) + weight);
  let norm = 0;
  for (const weight of centroid.values()) norm += weight * weight;
  norm = Math.sqrt(norm) || 1;
  for (const [term, weight] of centroid) centroid.set(term, weight / norm);
  return vectors.map((vector) => cosine(vector, centroid));
}

export function rank(vectors: readonly Vector[]): number[] {
  return vectors.length > TEXTRANK_LIMIT ? centroidRank(vectors) : textRank(vectors);
}

interface SelectOptions {
  count: number;
  /** Two picks more similar than this are near-duplicates; the lower-ranked one is left out. */
  maxSimilarity: number;
  /**
   * Maximal marginal relevance: how much similarity to earlier picks counts
   * against a candidate (0 = rank only). Keeps a short summary from spending
   * all its bullets on one thread of the conversation.
   */
  diversity: number;
}

/** Indices of up to `count` documents, in the order they were picked (best first). */
export function selectTop(scores: readonly number[], vectors: readonly Vector[], eligible: readonly number[], options: SelectOptions): number[] {
  const best = Math.max(0, ...eligible.map((index) => scores[index] ?? 0)) || 1;
  const remaining = [...eligible].sort((a, b) => a - b);
  const picked: number[] = [];
  const empty = new Map<string, number>();
  while (picked.length < options.count && remaining.length > 0) {
    let choice = -1;
    let choiceValue = Number.NEGATIVE_INFINITY;
    for (let position = 0; position < remaining.length; position++) {
      const index = remaining[position] ?? 0;
      const vector = vectors[index] ?? empty;
      let overlap = 0;
      for (const other of picked) overlap = Math.max(overlap, cosine(vector, vectors[other] ?? empty));
      if (overlap > options.maxSimilarity) continue;
      const value = (scores[index] ?? 0) / best - options.diversity * overlap;
      // Strictly greater: on a tie the earlier message (lower index) wins.
      if (value > choiceValue) {
        choiceValue = value;
        choice = position;
      }
    }
    if (choice === -1) break;
    picked.push(remaining[choice] ?? 0);
    remaining.splice(choice, 1);
  }
  return picked;
}

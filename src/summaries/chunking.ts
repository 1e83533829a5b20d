/**
 * Splits a conversation into parts that each fit a token budget, by whole
 * messages and in order. A message too long for any part on its own is cut,
 * visibly (a marker in its text) and with a warning; nothing is dropped.
 */
import { formatLine } from '../conversation/format-for-model.ts';
import type { PreparedConversation, PreparedMessage } from '../conversation/prepare.ts';
import { estimateTokens } from '../llm/provider-spec/contract.ts';

interface Chunk {
  messages: PreparedMessage[];
  /** The user turn for this part. */
  turn: string;
  tokens: number;
}

interface ChunkPlan {
  chunks: Chunk[];
  warnings: string[];
}

type TurnBuilder = (prepared: PreparedConversation, messages: readonly PreparedMessage[]) => string;

/** The header lines of a non-empty part ("Messages: n, from … to …") are not in the empty turn's estimate. */
const HEADER_SLACK_TOKENS = 32;

export class ChunkBudgetError extends Error {
  override readonly name = 'ChunkBudgetError';
}

export function planChunks(prepared: PreparedConversation, budget: number, makeTurn: TurnBuilder): ChunkPlan {
  const overhead = estimateTokens(makeTurn(prepared, [])) + HEADER_SLACK_TOKENS;
  const lineBudget = budget - overhead;
  if (lineBudget < 16) {
    throw new ChunkBudgetError(`a part of the conversation may take only ${budget} tokens, which does not leave room for a single message`);
  }
  const truncated = new Map<number, string>();
  const fitted = (m: PreparedMessage): PreparedMessage => {
    const cut = fitMessage(m, lineBudget);
    if (cut !== m) truncated.set(m.ref, describeCut(m, cut));
    return cut;
  };

  const chunks: Chunk[] = [];
  const all = prepared.messages;
  let i = 0;
  while (i < all.length) {
    const group: PreparedMessage[] = [];
    let used = overhead;
    while (i < all.length) {
      const m = fitted(all[i]!);
      const cost = lineTokens(m);
      if (group.length > 0 && used + cost > budget) break;
      group.push(m);
      used += cost;
      i++;
    }
    // The estimate adds per-line ceilings; check the real text and give back messages if it is over.
    let turn = makeTurn(prepared, group);
    while (estimateTokens(turn) > budget && group.length > 1) {
      group.pop();
      i--;
      turn = makeTurn(prepared, group);
    }
    if (estimateTokens(turn) > budget) {
      const only = group[0]!;
      const original = all[i - 1] ?? only;
      const shrunk = shrinkUntil(only, (m) => estimateTokens(makeTurn(prepared, [m])) <= budget, lineBudget * 4);
      truncated.set(only.ref, describeCut(original, shrunk));
      group[0] = shrunk;
      turn = makeTurn(prepared, group);
    }
    chunks.push({ messages: group, turn, tokens: estimateTokens(turn) });
  }
  const warnings = [...truncated.entries()].sort(([a], [b]) => a - b).map(([, w]) => w);
  return { chunks, warnings };
}

function lineTokens(m: PreparedMessage): number {
  return estimateTokens(`${formatLine(m)}\n`);
}

const MARKER = (omitted: number): string => ` … [truncated here: ${omitted} more characters not shown]`;

/** The message itself when its line fits, else a copy with its text cut to fit. */
function fitMessage(m: PreparedMessage, lineBudget: number): PreparedMessage {
  if (lineTokens(m) <= lineBudget) return m;
  return shrinkUntil(m, (candidate) => lineTokens(candidate) <= lineBudget, lineBudget * 4);
}

function shrinkUntil(m: PreparedMessage, fits: (m: PreparedMessage) => boolean, startChars = Number.MAX_SAFE_INTEGER): PreparedMessage {
  const chars = Array.from(m.text);
  // About four characters a token: start near the answer, then shrink by a tenth until it fits.
  let keep = Math.min(chars.length, Math.max(0, startChars) + 1);
  while (keep > 0) {
    keep = Math.floor(keep * 0.9);
    const candidate = { ...m, text: `${chars.slice(0, keep).join('')}${MARKER(chars.length - keep)}` };
    if (fits(candidate)) return candidate;
  }
  return { ...m, text: MARKER(chars.length).trim() };
}

function describeCut(original: PreparedMessage, cut: PreparedMessage): string {
  const total = Array.from(original.text).length;
  const markerAt = cut.text.lastIndexOf(' … [truncated here:');
  const kept = markerAt < 0 ? 0 : Array.from(cut.text.slice(0, markerAt)).length;
  return `message [${original.ref}] is too long for the model's context window: only its first ${kept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} characters were summarized`;
}

/**
 * Reference numbers a summary cites, mapped back to the messages they stand
 * for. Models write them as `[12]`, `[3][7]` or `[3, 7]`; numbers that are not
 * in the conversation are left out (and counted, so the caller can warn).
 */
import type { Citation } from '../conversation/prepare.ts';
import { buildJumpUrl } from '../conversation/snowflake.ts';
import type { CitationLink } from './types.ts';

// Bounded digit runs and list length keep the pattern linear on hostile text.
const GROUP = /\[(\d{1,7}(?:\s{0,3},\s{0,3}\d{1,7}){0,50})\]/g;

/** Every number cited in the text, once each, in order of first appearance. */
export function citedRefs(text: string): number[] {
  const seen = new Set<number>();
  for (const match of text.matchAll(GROUP)) {
    for (const part of (match[1] ?? '').split(',')) {
      const ref = Number(part.trim());
      if (Number.isSafeInteger(ref) && ref > 0) seen.add(ref);
    }
  }
  return [...seen];
}

export interface LinkedCitations {
  /** Ascending by reference number. */
  citations: CitationLink[];
  /** Cited numbers no message has. */
  unknown: number[];
}

export function linkCitations(
  text: string,
  known: ReadonlyMap<number, Citation>,
  where: { guildId?: string; channelId: string },
): LinkedCitations {
  const citations: CitationLink[] = [];
  const unknown: number[] = [];
  for (const ref of citedRefs(text).sort((a, b) => a - b)) {
    const message = known.get(ref);
    if (message === undefined) {
      unknown.push(ref);
      continue;
    }
    const jumpUrl = message.jumpUrl ?? buildJumpUrl(where.guildId, where.channelId, message.messageId);
    citations.push({ ref, messageId: message.messageId, ...(jumpUrl === undefined ? {} : { jumpUrl }) });
  }
  return { citations, unknown };
}

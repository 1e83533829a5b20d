/**
 * The citation pattern and its parser. Summaries cite the messages they draw
 * on by reference number, written `[12]`, `[3][7]` or `[3, 7]`. Everything
 * that reads citations (the engine resolving them, each surface rendering
 * them) goes through `citationGroups`, so the pattern lives here only.
 */
import type { Citation } from '../conversation/prepare.ts';
import { buildJumpUrl } from '../conversation/snowflake.ts';
import type { CitationLink } from './types.ts';

// Bounded digit runs and list length keep the pattern linear on hostile text.
const GROUP = /\[(\d{1,7}(?:\s{0,3},\s{0,3}\d{1,7}){0,50})\]/g;

/** One bracketed group of reference numbers as written in a text. */
interface CitationGroup {
  /** The numbers in the order written (not checked against any conversation). */
  refs: number[];
  /** Where the group starts in the text, and the group as written (`[3, 7]`). */
  index: number;
  written: string;
}

/** Every citation group in the text, in order. */
export function* citationGroups(text: string): Generator<CitationGroup> {
  for (const match of text.matchAll(GROUP)) {
    yield { refs: (match[1] ?? '').split(',').map((part) => Number(part.trim())), index: match.index, written: match[0] };
  }
}

/** Every number cited in the text, once each, in order of first appearance. */
export function citedRefs(text: string): number[] {
  const seen = new Set<number>();
  for (const group of citationGroups(text)) {
    for (const ref of group.refs) if (Number.isSafeInteger(ref) && ref > 0) seen.add(ref);
  }
  return [...seen];
}

interface ResolvedCitations {
  /** Ascending by reference number. */
  citations: CitationLink[];
  /** Cited numbers no message has. */
  unknown: number[];
}

/**
 * The messages a text cites. Numbers that are not in the conversation are
 * left out (and returned, so the caller can warn).
 */
export function resolveCitations(
  text: string,
  known: ReadonlyMap<number, Citation>,
  where: { guildId?: string | undefined; channelId: string },
): ResolvedCitations {
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

/**
 * Turns the reference numbers a summary cites (`[12]`, `[3, 7]`) into jump
 * links to the messages (`[[12]](https://discord.com/channels/…)`). Only
 * numbers the engine matched to a message are linked; text inside code
 * blocks and inline code is left alone, since markdown is inert there.
 */

export interface CitationTarget {
  ref: number;
  jumpUrl?: string;
}

// Bounded digit runs and list length keep the pattern linear on hostile text
// (the same shape the engine reads citations with).
const GROUP = /\[(\d{1,7}(?:\s{0,3},\s{0,3}\d{1,7}){0,50})\](?!\()/g;
const JUMP_URL = /^https:\/\/discord\.com\/channels\/(?:\d{1,20}|@me)\/\d{1,20}\/\d{1,20}$/;

export function linkCitations(text: string, citations: readonly CitationTarget[]): string {
  const urls = new Map<number, string>();
  // Only Discord message links: a hostile stored citation cannot smuggle another URL in.
  for (const c of citations) if (c.jumpUrl !== undefined && JUMP_URL.test(c.jumpUrl)) urls.set(c.ref, c.jumpUrl);
  if (urls.size === 0) return text;
  return mapOutsideCode(text, (prose) =>
    prose.replace(GROUP, (whole: string, list: string, offset: number, all: string) => {
      // `[[12]](…)` is already a link.
      if (offset > 0 && all[offset - 1] === '[') return whole;
      const refs = list.split(',').map((part) => Number(part.trim()));
      if (!refs.every((ref) => urls.has(ref))) {
        return refs.map((ref) => (urls.has(ref) ? link(ref, urls.get(ref)!) : `[${ref}]`)).join(' ');
      }
      return refs.map((ref) => link(ref, urls.get(ref)!)).join(' ');
    }),
  );
}

function link(ref: number, url: string): string {
  return `[[${ref}]](${url})`;
}

/** Applies `transform` to the text outside fenced blocks and inline code spans. */
function mapOutsideCode(text: string, transform: (prose: string) => string): string {
  // Fenced blocks first (``` … ```), then single-backtick spans; an unclosed fence runs to the end.
  const parts = text.split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/);
  return parts.map((part, i) => (i % 2 === 1 ? part : transform(part))).join('');
}

/** What a kind of feed contributes to its Atom document, and the citation links every entry ends with. */
import type { AtomEntry } from './atom.ts';

export interface FeedBody {
  entries: AtomEntry[];
  alternateUrl: string;
}

/** The summary text, then one `[n] <jump URL>` line per citation that has a link. */
export function withCitationLinks(text: string, citations: unknown): string {
  const list = Array.isArray(citations) ? (citations as Array<{ ref?: unknown; jumpUrl?: unknown }>) : [];
  const links = list.filter((c) => typeof c.jumpUrl === 'string').map((c) => `[${String(c.ref)}] ${String(c.jumpUrl)}`);
  return links.length === 0 ? text : `${text}\n\n${links.join('\n')}`;
}

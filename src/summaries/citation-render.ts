/**
 * The one renderer of citations. Each surface (Discord, the CLI, a web page)
 * brings a `CitationStyle` saying how a cited message looks there; the
 * renderer finds the citations (through the engine's pattern) and applies it.
 */
import { citationGroups } from './citations.ts';
import type { CitationLink } from './types.ts';

export interface CitationStyle {
  /**
   * How one cited message reads in the text, or undefined when this surface
   * does not link it (the number then stays `[n]`). Receives stored data:
   * a style checks the URL before it trusts it.
   */
  link(citation: CitationLink): string | undefined;
  /** Lines set after the text (a list of references), when the surface wants them. */
  references?(citations: readonly CitationLink[]): string[];
}

/**
 * The text with its citations rendered in `style`. Code blocks and inline
 * code are left alone (markdown is inert there), and so is a number already
 * written as a link (`[[12]](…)`), so rendering twice changes nothing.
 */
export function renderCitations(text: string, citations: readonly CitationLink[], style: CitationStyle): string {
  const marks = new Map<number, string>();
  for (const citation of citations) {
    const mark = style.link(citation);
    if (mark !== undefined) marks.set(citation.ref, mark);
  }
  const body = marks.size === 0 ? text : mapOutsideCode(text, (prose) => linkGroups(prose, marks));
  const references = style.references?.(citations) ?? [];
  return references.length === 0 ? body : `${body.trimEnd()}\n\n${references.join('\n')}`;
}

function linkGroups(prose: string, marks: ReadonlyMap<number, string>): string {
  let out = '';
  let from = 0;
  for (const group of citationGroups(prose)) {
    const end = group.index + group.written.length;
    const isLinkText = prose[group.index - 1] === '[' || prose[end] === '(';
    out += prose.slice(from, group.index);
    out += isLinkText ? group.written : group.refs.map((ref) => marks.get(ref) ?? `[${ref}]`).join(' ');
    from = end;
  }
  return out + prose.slice(from);
}

/** Applies `transform` to the text outside fenced blocks and inline code spans. */
function mapOutsideCode(text: string, transform: (prose: string) => string): string {
  // Fenced blocks first (``` … ```), then single-backtick spans; an unclosed fence runs to the end.
  const parts = text.split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/);
  return parts.map((part, i) => (i % 2 === 1 ? part : transform(part))).join('');
}

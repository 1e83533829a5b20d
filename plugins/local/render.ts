/**
 * Rendering picked messages as cited bullet points. Message text and author
 * names come from channel members, so they are flattened to one line, cut
 * short, and stripped of anything that would pass for one of our citations
 * or ping a whole server.
 */
import { balanceMarkdown } from './balance-markdown.ts';
import type { NumberedMessage } from './messages.ts';

const MAX_QUOTE_CHARS = 240;

const HEADER_PREFIX = '_Extractive summary made offline (no language model configured)';

export function header(detail: string): string {
  return `${HEADER_PREFIX}: ${detail}._`;
}

/** One line, no forged `[12]` citations, no mass mentions, markdown left balanced, about MAX_QUOTE_CHARS at most. */
export function clean(text: string, maxChars = MAX_QUOTE_CHARS): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/\[(\d+)\]/g, '($1)')
    .replace(/@(everyone|here)\b/g, '@\u200b$1')
    .trim();
  if (flat.length <= maxChars) return balanceMarkdown(flat);
  const cut = flat.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return balanceMarkdown(`${(space > maxChars * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`);
}

export function cite(refs: readonly number[]): string {
  return refs.map((ref) => `[${ref}]`).join(' ');
}

/** `- Alice: we should ship on Friday [12]` */
export function bullet(message: NumberedMessage, options: { withAuthor?: boolean; prefix?: string } = {}): string {
  const author = options.withAuthor === false ? '' : `${clean(message.author, 64)}: `;
  return `- ${options.prefix ?? ''}${author}${clean(message.content)} ${cite([message.ref])}`;
}

export function parseTime(timestamp: string): Date | undefined {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** `14:05`, or `05-02 14:05` when the conversation spans several days (UTC). */
export function clock(date: Date, withDay: boolean): string {
  const iso = date.toISOString();
  return withDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

export function formatPeriod(messages: readonly NumberedMessage[]): { text: string; spansDays: boolean } | undefined {
  const times = messages.flatMap((message) => {
    const date = parseTime(message.timestamp);
    return date ? [date.getTime()] : [];
  });
  if (times.length === 0) return undefined;
  const first = new Date(Math.min(...times)).toISOString();
  const last = new Date(Math.max(...times)).toISOString();
  const spansDays = first.slice(0, 10) !== last.slice(0, 10);
  const end = spansDays ? `${last.slice(0, 10)} ${last.slice(11, 16)}` : last.slice(11, 16);
  return { text: `${first.slice(0, 10)} ${first.slice(11, 16)} – ${end} UTC`, spansDays };
}

/** `Alice (5 messages), Bob (3 messages)`: most active first, ties by name. */
export function participantsLine(counts: ReadonlyMap<string, number>): string {
  return [...counts.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, count]) => `${clean(name, 64)} (${count} message${count === 1 ? '' : 's'})`)
    .join(', ');
}

export function countByAuthor(messages: readonly NumberedMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message.author, (counts.get(message.author) ?? 0) + 1);
  return counts;
}

import { DiscordLimits } from './limits.ts';

/**
 * Text shaping for Discord messages. Everything here bounds its output, so
 * callers can pass hostile or huge input (repository files, model output,
 * member text) without checking lengths themselves.
 */

/** Cuts `text` to at most `max` code units, ending in `marker`, never splitting a surrogate pair. */
export function truncate(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  let cut = max - marker.length;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}${marker}`;
}

const FENCE = '```';

/** Breaks every run of three or more backticks with zero-width spaces, so it cannot open or close a block. */
function defuseFences(text: string): string {
  return text.replace(/`{3,}/g, (run) => run.split('').join('\u200b'));
}

/**
 * A fenced code block of at most `max` characters. Markdown inside is inert,
 * which makes it the safe way to show text from outside; a fence inside the
 * text is broken with a zero-width space so it cannot close the block early.
 */
export function codeBlock(text: string, options: { language?: string; max?: number } = {}): string {
  const language = (options.language ?? '').replace(/[^A-Za-z0-9_+-]/g, '').slice(0, 20);
  const max = options.max ?? DiscordLimits.content;
  const open = `${FENCE}${language}\n`;
  const close = `\n${FENCE}`;
  const body = defuseFences(text.replace(/\r\n?/g, '\n')).replace(/\n+$/, '');
  const room = max - open.length - close.length;
  if (room <= 1) return truncate(`${open}${close}`, max);
  return `${open}${truncate(body === '' ? ' ' : body, room, '\n…')}${close}`;
}

/** One line of inline code: control characters shown escaped, backticks replaced, bounded. */
export function inlineCode(text: string, max = 100): string {
  const oneLine = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `\`${truncate(oneLine.replaceAll('`', "'"), Math.max(1, max - 2))}\``;
}

export interface BoundedLinesOptions {
  /** Total characters of the result, the "more" line included. */
  max: number;
  /** Longest single line; longer ones are truncated. Default: `max`. */
  maxLine?: number;
  /** The line that says how many lines were left out. */
  more?: (omitted: number) => string;
  separator?: string;
}

const defaultMore = (omitted: number): string => `…and ${omitted} more`;

/**
 * As many whole lines as fit in `max`, then "…and N more". The result is
 * never longer than `max`, and never silently drops lines: the count says how
 * many are missing.
 */
export function boundedLines(lines: readonly string[], options: BoundedLinesOptions): { text: string; shown: number; omitted: number } {
  const separator = options.separator ?? '\n';
  const more = options.more ?? defaultMore;
  const fitted = lines.map((line) => truncate(line, Math.min(options.maxLine ?? options.max, options.max)));
  const shown =
    prefixLength(fitted, fitted.length, separator.length) <= options.max
      ? fitted.length
      : largestPrefix(fitted.length - 1, (count) => {
          const joined = prefixLength(fitted, count, separator.length);
          return joined + (count > 0 ? separator.length : 0) + more(fitted.length - count).length <= options.max;
        });
  const omitted = fitted.length - shown;
  const head = fitted.slice(0, shown).join(separator);
  if (omitted === 0) return { text: head, shown, omitted };
  const tail = more(omitted);
  return { text: shown === 0 ? truncate(tail, options.max) : `${head}${separator}${tail}`, shown, omitted };
}

/**
 * Lines in a code block (markdown inert) followed, outside the block, by
 * "…and N more" when not all fit; the whole is at most `max` characters.
 */
export function boundedCodeLines(
  lines: readonly string[],
  options: {
    max: number;
    language?: string;
    more?: (omitted: number) => string;
    /** How many lines there are in all, when the caller passes only the first few. */
    total?: number;
  },
): string {
  const more = options.more ?? defaultMore;
  const total = Math.max(options.total ?? lines.length, lines.length);
  const language = (options.language ?? '').replace(/[^A-Za-z0-9_+-]/g, '').slice(0, 20);
  const overhead = `${FENCE}${language}\n\n${FENCE}`.length;
  const noteRoom = 1 + more(total).length;
  const maxLine = Math.max(1, options.max - overhead - noteRoom);
  const safe = lines.map((line) => truncate(defuseFences(line.replace(/[\r\n]+/g, ' ')), maxLine));
  const blockLength = (count: number): number => overhead + Math.max(1, prefixLength(safe, count, 1));
  const shown =
    total === safe.length && blockLength(safe.length) <= options.max
      ? safe.length
      : largestPrefix(safe.length, (count) => blockLength(count) + 1 + more(total - count).length <= options.max);
  const body = shown === 0 ? ' ' : safe.slice(0, shown).join('\n');
  const block = `${FENCE}${language}\n${body}\n${FENCE}`;
  if (shown === total) return block;
  if (shown === 0) return truncate(more(total), options.max);
  return `${block}\n${more(total - shown)}`;
}

/** Length of the first `count` items joined with a separator of `separatorLength`. */
function prefixLength(items: readonly string[], count: number, separatorLength: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += items[i]!.length;
  return total + Math.max(0, count - 1) * separatorLength;
}

/**
 * The largest count in [0, n] for which `fits` holds. `fits` is monotone
 * here: one more line adds at least its separator, and the "N more" note
 * shrinks by at most that one character.
 */
function largestPrefix(n: number, fits: (count: number) => boolean): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** `<t:…:f>` (absolute) or `<t:…:R>` (relative): shown in each reader's own time zone. */
export function discordTime(at: Date | number, style: 'f' | 'F' | 'R' | 'd' | 't' = 'f'): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  return `<t:${Math.floor(ms / 1000)}:${style}>`;
}

/** Absolute and relative time together, e.g. "<t:…:f> (<t:…:R>)". */
export function discordTimeWithAge(at: Date | number): string {
  return `${discordTime(at, 'f')} (${discordTime(at, 'R')})`;
}

/** A duration in words: "45 seconds", "2 minutes", "1 hour". */
export function describeDuration(ms: number): string {
  const unit = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return unit(seconds, 'second');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60 || minutes % 60 !== 0) return unit(minutes, 'minute');
  return unit(minutes / 60, 'hour');
}

/** "1 path", "3 paths". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** A short commit id for display. */
export function shortSha(sha: string | null | undefined): string {
  return sha === null || sha === undefined || sha === '' ? 'unknown' : sha.slice(0, 7);
}

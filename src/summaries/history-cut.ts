/**
 * The sentence a summary carries when reading stopped short of what the
 * member asked for: a time window (or everything from a message on) with
 * more messages than the most a summary reads, or a count that bots'
 * messages kept from being reached before the most history a summary
 * scans. Undefined when what was asked for was read (the window's start,
 * the channel's start, or N messages). Used by /summarize and by
 * `recap summarize`.
 */

/** Why reading stopped: the count, the window's start, the channel's start, or the most history read in all. */
export type ReadEnd = 'count' | 'window' | 'channel-start' | 'scan-limit';

/** The window asked for: a duration back from now, or everything from a linked message on. */
export type AskedWindow = { kind: 'duration'; durationMs: number } | { kind: 'after-message' };

export interface HistoryReadFacts {
  end: ReadEnd;
  /** Messages read that will be summarized. */
  counted: number;
  /** Messages read in all. */
  scanned: number;
  /** Time of the oldest message summarized (epoch ms), when any. */
  oldestMs?: number;
}

export function historyCut(read: HistoryReadFacts, since: AskedWindow | undefined, maxMessages: number): string | undefined {
  const from = read.oldestMs === undefined ? '' : `, from ${shortUtc(read.oldestMs)}`;
  if (read.end === 'scan-limit' && read.counted < maxMessages) {
    const verb = read.counted === 1 ? 'is' : 'are';
    const those = read.counted === 1 ? 'that one' : `those ${count(read.counted)}`;
    return `Only ${count(read.counted)} of the newest ${count(read.scanned)} messages ${verb} from members (the rest are from bots or have nothing to read); this covers ${those}${from}.`;
  }
  if (read.end !== 'count' || since === undefined) return undefined;
  const newest = `this covers the newest ${count(read.counted)}${from}.`;
  const limit = `${count(maxMessages)} message${maxMessages === 1 ? '' : 's'}`;
  if (since.kind === 'after-message') return `More than ${limit} ${maxMessages === 1 ? 'was' : 'were'} posted from that message on; ${newest}`;
  const { phrase, single } = spelled(since.durationMs);
  return `The last ${phrase} ${single ? 'holds' : 'hold'} more than ${limit}; ${newest}`;
}

const UNITS: ReadonlyArray<[string, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];

/** `14 days`, `day`, `90 minutes`: the largest unit that divides the duration. */
function spelled(ms: number): { phrase: string; single: boolean } {
  for (const [name, size] of UNITS) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return n === 1 ? { phrase: name, single: true } : { phrase: `${count(n)} ${name}s`, single: false };
    }
  }
  return { phrase: `${count(ms)} milliseconds`, single: false };
}

/** `3 Dec 14:02 UTC`: footers do not render Discord's `<t:…>` timestamps, so the zone is named. */
function shortUtc(ms: number): string {
  const date = new Date(ms);
  const month = date.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return `${date.getUTCDate()} ${month} ${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')} UTC`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

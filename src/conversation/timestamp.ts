/**
 * Strict ISO-8601 timestamp reading. `Date.parse` is too forgiving (it reads
 * "March 1" and guesses the local zone for naive date-times); exports need a
 * clear yes/no and to know whether the zone was given.
 */

interface ParsedTimestamp {
  /** Epoch milliseconds (UTC). */
  ms: number;
  /** True when the text carried no zone offset; it was then read as UTC. */
  naive: boolean;
}

// DiscordChatExporter writes .NET DateTimeOffset values: up to 7 fractional
// digits, trailing zeros dropped, and an offset such as +00:00 or +02:00.
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export function parseTimestamp(text: string): ParsedTimestamp | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));

  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  // Date.UTC maps years 0-99 to 1900-1999; such dates are nonsense in an export anyway.
  if (!Number.isFinite(utc) || year < 1970) return undefined;
  return { ms: utc, naive: zone === undefined };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `2024-03-01 10:15 UTC`: minute precision, always UTC, so every line of a transcript reads the same way. */
export function formatUtcMinute(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

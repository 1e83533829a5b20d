/**
 * `from` and `to` of `/summaries list`: a date (`2026-12-01`, a whole UTC
 * day: `to` includes it), an ISO time, or a time back from now (`7d`, `12h`).
 */
import { DurationError, parseDuration } from '../../conversation/duration.ts';
import { UserFacingError } from '../errors.ts';

const DAY_MS = 86_400_000;

export function parseHistoryBound(text: string, which: 'from' | 'to', nowMs: number): Date {
  const input = text.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input);
  if (day !== null) {
    const start = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    const valid = new Date(start).toISOString().startsWith(input);
    if (!valid) throw new UserFacingError(`\`${which}\`: ${JSON.stringify(input)} is not a calendar date.`);
    return new Date(which === 'to' ? start + DAY_MS : start);
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(input)) {
    const at = Date.parse(input);
    if (Number.isNaN(at)) throw new UserFacingError(`\`${which}\`: ${JSON.stringify(input.slice(0, 40))} is not a valid time.`);
    return new Date(at);
  }
  try {
    return new Date(nowMs - parseDuration(input, { max: 3_650 * DAY_MS }));
  } catch (error) {
    if (error instanceof DurationError) {
      throw new UserFacingError(`\`${which}\` takes a date (2026-12-01), an ISO time, or a time back from now (7d, 12h): ${error.message}`);
    }
    throw error;
  }
}

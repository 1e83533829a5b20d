/**
 * When a digest runs: its schedule (`daily`, `weekdays`, `weekly`, `monthly`
 * at a local time, or a cron expression) in an IANA time zone, read by
 * cron-parser, which steps through DST changes in that zone: 09:00
 * Europe/Berlin is 07:00 UTC in summer and 08:00 UTC in winter, once a day either way.
 */
import { CronExpressionParser } from 'cron-parser';

export type Cadence = 'daily' | 'weekdays' | 'weekly' | 'monthly' | 'cron';
export const CADENCES: readonly Cadence[] = ['daily', 'weekdays', 'weekly', 'monthly', 'cron'];

export interface ScheduleSpec {
  cadence: Cadence;
  /** `HH:MM`, 24-hour, local to `timezone`; unused by `cron`. */
  at: string;
  timezone: string;
  /** Five fields (minute hour day month weekday), only with `cron`. */
  cron?: string | undefined;
}

/** Runs closer together than this are refused: each run reads history and calls a model for the guild. */
export const MIN_GAP_MS = 60 * 60_000;

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

const AT = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** Whether the platform's Intl knows the zone (the same database cron-parser's Luxon uses). */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The five-field cron expression a schedule means. @throws ScheduleError saying what to write instead. */
export function cronOf(spec: ScheduleSpec): string {
  if (spec.cadence === 'cron') {
    const text = (spec.cron ?? '').trim().replace(/\s+/g, ' ');
    if (text === '') throw new ScheduleError('`every:cron` needs a `cron` expression, e.g. `0 9 * * 1-5` (09:00 on weekdays).');
    if (text.split(' ').length !== 5) throw new ScheduleError('`cron` takes five fields: minute hour day-of-month month day-of-week, e.g. `30 8 * * 1`.');
    return text;
  }
  const match = AT.exec(spec.at.trim());
  if (match === null) throw new ScheduleError('`at` takes a 24-hour time like `09:00` or `17:30`.');
  const [hour, minute] = [Number(match[1]), Number(match[2])];
  switch (spec.cadence) {
    case 'daily':
      return `${minute} ${hour} * * *`;
    case 'weekdays':
      return `${minute} ${hour} * * 1-5`;
    case 'weekly':
      return `${minute} ${hour} * * 1`;
    case 'monthly':
      return `${minute} ${hour} 1 * *`;
  }
}

/** @throws ScheduleError for an unknown zone, an unreadable expression, or runs closer than MIN_GAP_MS. */
export function validateSchedule(spec: ScheduleSpec, now: Date): void {
  if (!isTimeZone(spec.timezone)) throw new ScheduleError(`\`timezone\`: "${spec.timezone.slice(0, 64)}" is not an IANA time zone; pick one from the list, e.g. Europe/Berlin.`);
  const cron = cronOf(spec);
  let times: number[];
  try {
    const expression = CronExpressionParser.parse(cron, { currentDate: now, tz: spec.timezone, strict: false });
    times = Array.from({ length: 4 }, () => expression.next().getTime());
  } catch (error) {
    throw new ScheduleError(`\`cron\`: ${(error as Error).message}`);
  }
  for (let i = 1; i < times.length; i += 1) {
    if ((times[i] as number) - (times[i - 1] as number) < MIN_GAP_MS) throw new ScheduleError('A digest runs at most once an hour; pick a schedule with runs at least an hour apart.');
  }
}

/** The first run strictly after `after`. */
export function nextRunAfter(spec: ScheduleSpec, after: Date): Date {
  return CronExpressionParser.parse(cronOf(spec), { currentDate: after, tz: spec.timezone }).next().toDate();
}

/** The last run at or before `at` (the start of the window a first run covers). */
export function previousRunBefore(spec: ScheduleSpec, at: Date): Date {
  return CronExpressionParser.parse(cronOf(spec), { currentDate: new Date(at.getTime() - 1), tz: spec.timezone }).prev().toDate();
}

/** How a schedule reads in a list: "daily at 09:00 (Europe/Berlin)". */
export function describeSchedule(spec: ScheduleSpec): string {
  if (spec.cadence === 'cron') return `cron \`${spec.cron ?? ''}\` (${spec.timezone})`;
  const label = { daily: 'daily', weekdays: 'on weekdays', weekly: 'weekly on Mondays', monthly: 'monthly on the 1st' }[spec.cadence];
  return `${label} at ${spec.at} (${spec.timezone})`;
}

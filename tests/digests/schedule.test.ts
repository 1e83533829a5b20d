import { describe, expect, it } from 'vitest';
import { describeSchedule, nextRunAfter, previousRunBefore, ScheduleError, validateSchedule, type ScheduleSpec } from '../../src/digests/schedule.ts';

const berlin9: ScheduleSpec = { cadence: 'daily', at: '09:00', timezone: 'Europe/Berlin' };
const runs = (spec: ScheduleSpec, from: string, n: number): string[] => {
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i += 1) out.push((t = nextRunAfter(spec, t)).toISOString());
  return out;
};

describe('digest schedules', () => {
  it('runs 09:00 Europe/Berlin at 09:00 local on both sides of the spring change, once a day', () => {
    expect(runs(berlin9, '2026-03-28T09:00:00Z', 3)).toEqual(['2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z']);
    expect(runs(berlin9, '2026-03-27T12:00:00Z', 2)).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']);
  });

  it('runs 09:00 Europe/Berlin at 09:00 local on both sides of the autumn change, once a day', () => {
    expect(runs(berlin9, '2026-10-23T12:00:00Z', 3)).toEqual(['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  });

  it('runs a time inside the repeated autumn hour once', () => {
    const spec: ScheduleSpec = { cadence: 'daily', at: '02:30', timezone: 'Europe/Berlin' };
    expect(runs(spec, '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('steps weekdays, weekly and monthly as named', () => {
    expect(runs({ cadence: 'weekdays', at: '08:30', timezone: 'UTC' }, '2026-12-04T09:00:00Z', 2)).toEqual(['2026-12-07T08:30:00.000Z', '2026-12-08T08:30:00.000Z']);
    expect(runs({ cadence: 'weekly', at: '08:30', timezone: 'UTC' }, '2026-12-06T09:00:00Z', 1)).toEqual(['2026-12-07T08:30:00.000Z']);
    expect(runs({ cadence: 'monthly', at: '00:00', timezone: 'America/New_York' }, '2026-12-06T09:00:00Z', 1)).toEqual(['2027-01-01T05:00:00.000Z']);
  });

  it('gives the first run the window the schedule implies: since the slot before it', () => {
    const first = nextRunAfter(berlin9, new Date('2026-12-06T12:00:00Z'));
    expect(previousRunBefore(berlin9, first).toISOString()).toBe('2026-12-06T08:00:00.000Z');
  });

  it('refuses unknown zones, bad times, bad cron and runs closer than an hour, saying what to write', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const refusal = (spec: ScheduleSpec): string => {
      try {
        validateSchedule(spec, now);
      } catch (error) {
        expect(error).toBeInstanceOf(ScheduleError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refusal({ ...berlin9, timezone: 'Mars/Olympus' })).toMatch(/is not an IANA time zone/);
    expect(refusal({ ...berlin9, at: '25:00' })).toBe('`at` takes a 24-hour time like `09:00` or `17:30`.');
    expect(refusal({ cadence: 'cron', at: '', timezone: 'UTC', cron: '61 * * * *' })).toMatch(/^`cron`: /);
    expect(refusal({ cadence: 'cron', at: '', timezone: 'UTC', cron: '0 9 * *' })).toMatch(/five fields/);
    expect(refusal({ cadence: 'cron', at: '', timezone: 'UTC', cron: '*/10 * * * *' })).toMatch(/at most once an hour/);
    expect(refusal({ cadence: 'cron', at: '', timezone: 'UTC', cron: '0 9 * * 1-5' })).toBe('accepted');
    expect(describeSchedule(berlin9)).toBe('daily at 09:00 (Europe/Berlin)');
  });
});

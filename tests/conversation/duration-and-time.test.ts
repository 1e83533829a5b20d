import { describe, expect, it } from 'vitest';
import { DurationError, parseDuration } from '../../src/conversation/duration.ts';
import { formatUtcMinute, parseTimestamp } from '../../src/conversation/timestamp.ts';
import { buildJumpUrl, compareSnowflakes } from '../../src/conversation/snowflake.ts';

describe('parseDuration', () => {
  it('reads the units members type', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2h')).toBe(2 * 3_600_000);
    expect(parseDuration('3d')).toBe(3 * 86_400_000);
    expect(parseDuration('1w')).toBe(7 * 86_400_000);
    expect(parseDuration(' 1h30m ')).toBe(90 * 60_000);
    expect(parseDuration('45S')).toBe(45_000);
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['90', /"90" is not a duration \(add a unit: s, m, h, d or w\)/],
    ['2 hours', /"2 hours" is not a duration; write it like 30m/],
    ['-2h', /is not a duration/],
    ['1.5h', /is not a duration/],
    ['0m', /is zero/],
    ['400d', /longer than the maximum of 366d/],
    ['9'.repeat(50) + 'd', /too long/],
  ])('explains what is wrong with %j', (input, message) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('names a caller-given maximum', () => {
    expect(() => parseDuration('3h', { max: 2 * 3_600_000 })).toThrow(/maximum of 2h/);
  });
});

describe('parseTimestamp', () => {
  it('reads what DiscordChatExporter writes', () => {
    expect(parseTimestamp('2024-03-01T10:15:30.123+00:00')).toEqual({ ms: Date.UTC(2024, 2, 1, 10, 15, 30, 123), naive: false });
    expect(parseTimestamp('2024-03-01T10:15:30.1234567+02:00')).toEqual({ ms: Date.UTC(2024, 2, 1, 8, 15, 30, 123), naive: false });
    expect(parseTimestamp('2024-03-01T10:15:30-05:30')).toEqual({ ms: Date.UTC(2024, 2, 1, 15, 45, 30), naive: false });
    expect(parseTimestamp('2024-03-01T10:15:30Z')).toEqual({ ms: Date.UTC(2024, 2, 1, 10, 15, 30), naive: false });
    expect(parseTimestamp('2024-03-01T10:15')).toEqual({ ms: Date.UTC(2024, 2, 1, 10, 15), naive: true });
  });

  it.each(['2024-02-30T10:00:00Z', '2024-13-01T10:00:00Z', '2024-03-01T24:00:00Z', '2024-03-01', 'March 1 2024', '2024-03-01T10:00:00+15:00', '0099-01-01T00:00:00Z'])(
    'refuses %s, which is not a real date-time',
    (bad) => {
      expect(parseTimestamp(bad)).toBeUndefined();
    },
  );

  it('formats a minute in UTC', () => {
    expect(formatUtcMinute(Date.UTC(2024, 2, 1, 9, 5, 59))).toBe('2024-03-01 09:05 UTC');
  });
});

describe('snowflakes', () => {
  it('order numerically and link only real ids', () => {
    expect(compareSnowflakes('999999999999999999', '1000000000000000000')).toBeLessThan(0);
    expect(compareSnowflakes('42', '42')).toBe(0);
    expect(buildJumpUrl('1', '2', '3')).toBe('https://discord.com/channels/1/2/3');
    expect(buildJumpUrl(undefined, '2', '3')).toBe('https://discord.com/channels/@me/2/3');
    expect(buildJumpUrl('0', '2', '3')).toBe('https://discord.com/channels/@me/2/3');
    expect(buildJumpUrl('1', '2/../../evil', '3')).toBeUndefined();
  });
});

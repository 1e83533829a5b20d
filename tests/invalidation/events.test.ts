import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/invalidation/events.ts';

describe('invalidation messages', () => {
  it('round-trips every event kind', () => {
    for (const event of [
      { kind: 'guild', guildId: '123456789012345678' },
      { kind: 'repo', owner: 'acme', repo: 'prompts', ref: 'release/v2', commit: 'a'.repeat(40) },
      { kind: 'repo', owner: 'acme', repo: 'prompts' },
      { kind: 'all' },
    ] as const) {
      const decoded = decodeMessage(encodeMessage('host:1:abcd', event));
      expect(decoded).toEqual({ ok: true, message: { v: 1, origin: 'host:1:abcd', event } });
    }
  });

  it('rejects hostile or garbled payloads with a reason', () => {
    const origin = 'o';
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['{"v":1', /not JSON/],
      ['null', /message shape/],
      ['[]', /message shape/],
      [JSON.stringify({ v: 2, origin, event: { kind: 'all' } }), /v:/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'drop-tables' } }), /event\.kind/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'guild', guildId: "1'; drop table x; --" } }), /event\.guildId/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'repo', owner: '../etc', repo: 'x' } }), /event/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'repo', owner: 'a', repo: 'b', ref: 'main\nx' } }), /event\.ref/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'repo', owner: 'a', repo: 'b', ref: 'a/../b' } }), /event\.ref/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'guild', guildId: '1', extra: true } }), /event/],
      [JSON.stringify({ v: 1, origin: 'x'.repeat(500), event: { kind: 'all' } }), /origin/],
      [JSON.stringify({ v: 1, origin, event: { kind: 'all' }, pad: 'x'.repeat(2000) }), /bytes is over/],
    ];
    for (const [payload, reason] of cases) {
      const decoded = decodeMessage(payload);
      expect(decoded.ok, payload.slice(0, 60)).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    }
  });

  it('refuses to publish an invalid event', () => {
    expect(() => encodeMessage('o', { kind: 'guild', guildId: 'bad id with spaces' })).toThrow();
  });
});

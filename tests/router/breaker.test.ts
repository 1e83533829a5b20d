import { describe, expect, it } from 'vitest';
import { RouterError } from '../../src/llm/router/errors.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

const NO_RETRY = { retry: { rounds: 0 } };

describe('circuit breaker for a group of one', () => {
  it('opens, fails fast with the time it reopens, probes once after cool-down, then closes', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 2, failureWindowMs: 10_000, coolDownMs: 30_000 } }],
      options: NO_RETRY,
    });
    only.failNext({ kind: 'overloaded' }, { kind: 'overloaded' });
    await failure(w.router.generate(ask(), ctx()));
    await failure(w.router.generate(ask(), ctx()));
    const openedAt = w.clock.now();
    expect(w.router.circuits()).toMatchObject([{ target: 'only/m', scope: 'operator', state: 'open', retryAt: openedAt + 30_000 }]);

    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err).toBeInstanceOf(RouterError);
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain(`only/m is unavailable until ${new Date(openedAt + 30_000).toISOString()}`);
    expect(err.retryAt).toBe(openedAt + 30_000);
    expect(log).toHaveLength(2); // failed fast: the backend was not called
    expect(w.waits).toEqual([]);
    expect(w.ledger.records.at(-1)?.outcome).toBe('unavailable');

    w.clock.advance(30_000);
    expect(w.router.circuits()[0]?.state).toBe('half-open');
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('only');
    expect(log).toHaveLength(3);
    expect(w.router.circuits()[0]?.state).toBe('closed');
  });

  it('reopens when the half-open probe fails', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log);
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 1, coolDownMs: 5_000 } }],
      options: NO_RETRY,
    });
    only.failNext({ kind: 'server' }, { kind: 'server' });
    await failure(w.router.generate(ask(), ctx()));
    w.clock.advance(5_000);
    await failure(w.router.generate(ask(), ctx())); // the probe, failing
    expect(w.router.circuits()[0]).toMatchObject({ state: 'open', retryAt: w.clock.now() + 5_000 });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('unavailable');
    expect(log).toHaveLength(2);
  });

  it('lets only one probe through while half-open', async () => {
    const log: CallLog = [];
    const slow = new TestBackend('slow', [model('m')], log, { stall: true });
    const w = world({
      backends: [slow],
      plan: [{ provider: 'slow', model: 'm', breaker: { failureThreshold: 1, coolDownMs: 1_000 } }],
      options: { ...NO_RETRY, timeouts: { attemptMs: 30 } },
    });
    await failure(w.router.generate(ask(), ctx())); // times out: opens
    w.clock.advance(1_000);
    const probe = failure(w.router.generate(ask(), ctx()));
    const second = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(second.kind).toBe('unavailable');
    expect(second.attempts[0]?.detail).toContain('probe is already in flight');
    await probe;
    expect(log).toHaveLength(2);
  });

  it('does not sleep on a retry round when the call itself opened the only circuit', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'overloaded' });
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 1 } }] });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('exhausted');
    expect(w.waits).toEqual([]);
    expect(err.attempts.map((a) => a.reason)).toEqual(['overloaded', 'circuit_open']);
  });
});

describe('configurable failure window', () => {
  async function failTwiceApart(windowMs: number, gapMs: number) {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'server' }, { kind: 'server' });
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 2, failureWindowMs: windowMs } }],
      options: NO_RETRY,
    });
    await failure(w.router.generate(ask(), ctx()));
    w.clock.advance(gapMs);
    await failure(w.router.generate(ask(), ctx()));
    return w.router.circuits()[0]?.state;
  }

  it('forgets failures older than the window', async () => {
    expect(await failTwiceApart(1_000, 1_500)).toBe('closed');
  });

  it('opens when the failures fall inside the window', async () => {
    expect(await failTwiceApart(5_000, 1_500)).toBe('open');
  });

  it('takes the window from the router defaults when the target sets none', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'server' }, { kind: 'server' });
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm' }],
      options: { ...NO_RETRY, breaker: { failureThreshold: 2, failureWindowMs: 100 } },
    });
    await failure(w.router.generate(ask(), ctx()));
    w.clock.advance(200);
    await failure(w.router.generate(ask(), ctx()));
    expect(w.router.circuits()[0]?.state).toBe('closed');
  });
});

describe('breakers and guilds’ own keys', () => {
  it('keeps a guild’s own-key failures out of the shared circuit', async () => {
    const log: CallLog = [];
    const api = new TestBackend('api', [model('m')], log, { requiresKey: true, acceptedKeys: ['op-key', 'g2-key'] });
    const w = world({
      backends: [api],
      plan: [{ provider: 'api', model: 'm', breaker: { failureThreshold: 1 } }],
      options: NO_RETRY,
      guildKeys: { g2: { api: 'g2-key' } },
      operatorKeys: { api: 'op-key' },
      operatorAllowed: ['g1'],
    });
    api.failNext({ kind: 'rate_limited' });
    await failure(w.router.generate(ask(), ctx({ guildId: 'g2' }))); // g2's own key is rate limited
    const res = await w.router.generate(ask(), ctx({ guildId: 'g1' }));
    expect(res.keySource).toBe('operator');
    const states = w.router.circuits().map((c) => [typeof c.scope === 'string' ? c.scope : c.scope.guildId, c.state]);
    expect(states).toEqual(
      expect.arrayContaining([
        ['g2', 'open'],
        ['operator', 'closed'],
      ]),
    );
  });
});

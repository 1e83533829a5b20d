import { describe, expect, it } from 'vitest';
import { RouterError } from '../../src/llm/router/errors.ts';
import { createRouter } from '../../src/llm/router/router.ts';
import { LocalTargets } from '../../src/llm/router/shared-targets.ts';
import type { KeyResolver } from '../../src/llm/router/types.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

describe('key look-ups', () => {
  it('retries a failed key look-up in a later round', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log, { requiresKey: true, acceptedKeys: ['sk-op'] });
    let lookups = 0;
    const keys: KeyResolver = async () => {
      lookups++;
      if (lookups === 1) throw new Error('connection terminated unexpectedly');
      return { apiKey: 'sk-op', source: 'operator' };
    };
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm' }], options: { retry: { rounds: 2 } }, extra: { keys } });

    const res = await w.router.generate(ask(), ctx());

    expect(res.provider).toBe('only');
    expect(lookups).toBe(2);
    expect(res.attempts.map((a) => [a.round, a.status, a.reason ?? null])).toEqual([
      [0, 'skipped', 'no_key'],
      [1, 'ok', null],
    ]);
    expect(w.waits).toHaveLength(1);
    expect(JSON.stringify(w.logger)).not.toContain('sk-op');
  });

  it('gives up with the reason when the key store stays down for every round', async () => {
    const only = new TestBackend('only', [model('m')], [], { requiresKey: true });
    let lookups = 0;
    const keys: KeyResolver = async () => {
      lookups++;
      throw new Error('connection refused');
    };
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm' }], options: { retry: { rounds: 2 } }, extra: { keys } });

    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;

    expect(err).toBeInstanceOf(RouterError);
    expect(err.kind).toBe('no_targets');
    expect(err.message).toContain('could not be looked up');
    expect(lookups).toBe(3);
    expect(only.calls).toHaveLength(0);
  });
});

describe('state shared between routers (one per process)', () => {
  function twoRouters(backends: TestBackend[], plan: { provider: string; model: string; breaker?: object }[]) {
    const w = world({ backends, plan, options: { retry: { rounds: 0 } } });
    const shared = new LocalTargets(() => w.clock.now());
    // Each router gets its own breaker bank, as each process has: only `shared` is common.
    const first = createRouter({ ...w.deps, shared });
    const second = createRouter({ ...w.deps, shared });
    return { w, shared, first, second };
  }

  it("keeps every router off a target for the provider's Retry-After", async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log);
    const secondary = new TestBackend('secondary', [model('s')], log);
    const { w, first, second } = twoRouters([primary, secondary], [
      { provider: 'primary', model: 'p' },
      { provider: 'secondary', model: 's' },
    ]);
    primary.failNext({ kind: 'rate_limited', retryAfterMs: 30_000 });

    expect((await first.generate(ask(), ctx())).provider).toBe('secondary');
    const res = await second.generate(ask(), ctx());

    expect(res.provider).toBe('secondary');
    expect(res.attempts[0]).toMatchObject({ provider: 'primary', status: 'skipped', reason: 'cooldown' });
    expect(res.attempts[0]?.detail).toContain(new Date(w.clock.now() + 30_000).toISOString());
    expect(primary.calls).toHaveLength(1);

    w.clock.advance(30_000);
    expect((await second.generate(ask(), ctx())).provider).toBe('primary');
  });

  it('opens a circuit for every router, and sends one probe after the cool-down', async () => {
    const log: CallLog = [];
    const primary = new TestBackend('primary', [model('p')], log);
    const secondary = new TestBackend('secondary', [model('s')], log);
    const { w, first, second } = twoRouters([primary, secondary], [
      { provider: 'primary', model: 'p', breaker: { failureThreshold: 1, coolDownMs: 10_000 } },
      { provider: 'secondary', model: 's' },
    ]);
    primary.failNext({ kind: 'server' });
    await first.generate(ask(), ctx());
    expect(first.circuits().find((c) => c.target === 'primary/p')?.state).toBe('open');

    // The second router has never called the primary, and still passes it over.
    const skipped = await second.generate(ask(), ctx());
    expect(skipped.attempts[0]).toMatchObject({ provider: 'primary', status: 'skipped', reason: 'circuit_open' });
    expect(second.circuits().find((c) => c.target === 'primary/p')?.state).toBe('open');
    expect(primary.calls).toHaveLength(1);

    w.clock.advance(10_000);
    // Two calls at once, one from each router: only one may probe.
    const [x, y] = await Promise.all([first.generate(ask(), ctx()), second.generate(ask(), ctx())]);
    expect([x.provider, y.provider].sort()).toEqual(['primary', 'secondary']);
    expect(primary.calls).toHaveLength(2);

    // The probe answered: closed everywhere.
    expect((await first.generate(ask(), ctx())).provider).toBe('primary');
    expect((await second.generate(ask(), ctx())).provider).toBe('primary');
  });
});

/**
 * Model groups: weighted deployments, the per-task strategies and
 * `fallback_on`, through the real router over in-memory backends.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateRequest, GenerateResponse } from '../../src/llm/provider-spec/contract.ts';
import { createKeyResolver } from '../../src/llm/router/key-resolver.ts';
import type { RouterError } from '../../src/llm/router/errors.ts';
import type { Target } from '../../src/llm/router/types.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

/** A small deterministic generator (mulberry32), so weighted picks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const member = (provider: string, weight: number, extra: Partial<Target> = {}): Target => ({
  provider,
  model: 'm',
  group: 'g',
  weight,
  ...extra,
});

function backends(log: CallLog, ...names: string[]): TestBackend[] {
  return names.map((name) => new TestBackend(name, [model('m')], log));
}

describe('weighted deployments in a model group', () => {
  it('spreads calls by weight (ordered strategy)', async () => {
    const log: CallLog = [];
    const w = world({
      backends: backends(log, 'a', 'b'),
      plan: [member('a', 3), member('b', 1)],
      extra: { random: seeded(7) },
    });
    for (let i = 0; i < 400; i++) await w.router.generate(ask(), ctx());
    const a = log.filter((c) => c.startsWith('a:')).length;
    // 3:1 → 300 of 400 expected; a binomial's standard deviation here is under 9.
    expect(a).toBeGreaterThan(260);
    expect(a).toBeLessThan(340);
    expect(log).toHaveLength(400);
  });

  it('moves to the next deployment of the group before the next entry of the plan', async () => {
    const log: CallLog = [];
    const [a, b, c] = backends(log, 'a', 'b', 'c');
    a!.failNext({ kind: 'server' });
    b!.failNext({ kind: 'server' });
    const w = world({
      backends: [a!, b!, c!],
      plan: [member('a', 1000), member('b', 1), { provider: 'c', model: 'm' }],
      extra: { random: seeded(1) },
    });
    const res = await w.router.generate(ask(), ctx());
    expect(log).toEqual(['a:m', 'b:m', 'c:m']);
    expect(res.provider).toBe('c');

    // b failing alone: the group's other deployment answers, c is never asked.
    log.length = 0;
    b!.failNext({ kind: 'overloaded' });
    const w2 = world({
      backends: [a!, b!, c!],
      plan: [member('b', 1000), member('a', 1), { provider: 'c', model: 'm' }],
      extra: { random: seeded(2) },
    });
    expect((await w2.router.generate(ask(), ctx())).provider).toBe('a');
    expect(log).toEqual(['b:m', 'a:m']);
  });

  it('picks among healthy deployments only: an unhealthy one is passed over, the weights hold among the rest', async () => {
    const log: CallLog = [];
    const w = world({
      backends: backends(log, 'a', 'b', 'c'),
      plan: [member('a', 10), member('b', 1), member('c', 1)],
      extra: { random: seeded(3) },
    });
    w.unhealthy.add('a');
    for (let i = 0; i < 200; i++) await w.router.generate(ask(), ctx());
    expect(log.filter((c) => c.startsWith('a:'))).toHaveLength(0);
    const b = log.filter((c) => c.startsWith('b:')).length;
    expect(b).toBeGreaterThan(70);
    expect(b).toBeLessThan(130);
  });

  it('gives each key of one model its own deployment: own key, own breaker', async () => {
    const log: CallLog = [];
    const backend = new TestBackend('a', [model('m')], log, { requiresKey: true, acceptedKeys: ['key-one-0123', 'key-two-0123'] });
    const env: Record<string, string> = { KEY_ONE: 'key-one-0123', KEY_TWO: 'key-two-0123' };
    const w = world({
      backends: [backend],
      plan: [member('a', 1, { keyEnv: 'KEY_ONE' }), member('a', 1, { keyEnv: 'KEY_TWO' })],
      options: { breaker: { failureThreshold: 1, coolDownMs: 60_000 } },
      operatorAllowed: ['g1'],
      extra: {
        random: seeded(4),
        keys: createKeyResolver({
          guildKey: () => undefined,
          operatorKey: () => 'provider-wide-key',
          deploymentKey: (name) => env[name],
          mayUseOperatorKey: () => true,
        }),
      },
    });
    for (let i = 0; i < 40; i++) await w.router.generate(ask(), ctx());
    const keys = new Set(backend.calls.map((c) => c.apiKey));
    expect(keys).toEqual(new Set(['key-one-0123', 'key-two-0123']));

    // One key's deployment rate-limited opens only its circuit; the other key keeps serving.
    backend.calls.length = 0;
    backend.failNext({ kind: 'rate_limited' });
    const res = await w.router.generate(ask(), ctx());
    expect(res.attempts.map((a) => a.status)).toEqual(['failed', 'ok']);
    const circuits = w.router.circuits();
    expect(circuits.filter((c) => c.state === 'open')).toHaveLength(1);
    expect(circuits.map((c) => c.target).sort()).toEqual(['a/m#KEY_ONE', 'a/m#KEY_TWO']);
    for (let i = 0; i < 10; i++) expect((await w.router.generate(ask(), ctx())).attempts.at(-1)?.status).toBe('ok');
  });
});

describe('per-task strategies', () => {
  it('least-busy sends a call to the deployment with the fewest calls in flight', async () => {
    const log: CallLog = [];
    const w = world({
      backends: backends(log, 'a', 'b'),
      // By weight alone `a` would almost always come first.
      plan: [member('a', 1000), member('b', 1)],
      options: { strategies: { chat: 'least-busy' } },
      extra: { random: seeded(5) },
    });
    // A stream held open after its first text keeps `a` busy.
    const open = w.router.stream(ask(), ctx({ task: 'chat' }))[Symbol.asyncIterator]();
    const first = await open.next();
    expect(first.value).toMatchObject({ type: 'text' });
    expect(log).toEqual(['a:m']);

    const second = await w.router.generate(ask(), ctx({ task: 'chat' }));
    expect(second.provider).toBe('b');

    // Finished: `a` is idle again and wins by weight.
    for (let r = await open.next(); !r.done; r = await open.next());
    expect((await w.router.generate(ask(), ctx({ task: 'chat' }))).provider).toBe('a');
    // The summarize task keeps the default (weighted) order.
    expect((await w.router.generate(ask(), ctx({ task: 'summarize' }))).provider).toBe('a');
  });

  it('latency tries untried deployments first, then the one with the lowest recent latency', async () => {
    const log: CallLog = [];
    const [slow, fast] = backends(log, 'slow', 'fast');
    const w = world({
      backends: [],
      plan: [member('slow', 1000), member('fast', 1)],
      options: { strategies: { summarize: 'latency' } },
      extra: { random: seeded(6) },
    });
    // Backends that take time on the router's (manual) clock, as a slow region would.
    const timed = (backend: TestBackend, ms: number) => ({
      ...backend,
      name: backend.name,
      models: backend.models,
      requiresKey: false,
      async generate(request: GenerateRequest): Promise<GenerateResponse> {
        w.clock.advance(ms);
        return backend.generate(request);
      },
      stream: (request: GenerateRequest) => backend.stream(request),
      health: () => backend.health(),
    });
    const byName = new Map([
      ['slow', timed(slow!, 900)],
      ['fast', timed(fast!, 100)],
    ]);
    w.deps.providers.getProvider = (name) => byName.get(name);
    const { createRouter } = await import('../../src/llm/router/router.ts');
    const router = createRouter(w.deps);

    await router.generate(ask(), ctx());
    await router.generate(ask(), ctx());
    // Both measured once: slow first (weight), then fast (untried).
    expect(log).toEqual(['slow:m', 'fast:m']);
    log.length = 0;
    for (let i = 0; i < 5; i++) await router.generate(ask(), ctx());
    expect(log).toEqual(Array(5).fill('fast:m'));
  });
});

describe('fallback_on', () => {
  it('without it, a refusal moves on (the built-in classification)', async () => {
    const log: CallLog = [];
    const [a, b] = backends(log, 'a', 'b');
    a!.failNext({ kind: 'bad_request', status: 400 });
    const w = world({ backends: [a!, b!], plan: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }] });
    expect((await w.router.generate(ask(), ctx())).provider).toBe('b');
  });

  it('ends the call on a status it does not list, and moves on for one it lists', async () => {
    const log: CallLog = [];
    const [a, b] = backends(log, 'a', 'b');
    const plan: Target[] = [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }];
    const w = world({ backends: [a!, b!], plan, options: { fallbackOn: [429, 500, 502, 503, 504, 529] } });

    a!.failNext({ kind: 'bad_request', status: 400 });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('bad_request');
    expect(err.message).toContain('a/m answered 400 (bad_request), a status router.fallback_on does not list');
    expect(log).toEqual(['a:m']);

    log.length = 0;
    a!.failNext({ kind: 'overloaded', status: 529 });
    expect((await w.router.generate(ask(), ctx())).provider).toBe('b');
    expect(log).toEqual(['a:m', 'b:m']);

    // A 401 is not listed either: the call stops there, with the rejected key's target named.
    log.length = 0;
    a!.failNext({ kind: 'auth', status: 401 });
    const auth = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(auth.message).toContain('a/m answered 401');
    expect(log).toEqual(['a:m']);

    // Failures without a status always move on.
    log.length = 0;
    a!.failNext({ kind: 'network' });
    expect((await w.router.generate(ask(), ctx())).provider).toBe('b');
  });

  it('refuses a status outside 400-599 when the router is built', () => {
    expect(() => world({ backends: [], plan: [], options: { fallbackOn: [200] } })).toThrow(/fallback_on must list HTTP statuses 400-599/);
  });
});

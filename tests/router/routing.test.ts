import { describe, expect, it } from 'vitest';
import { RouterError } from '../../src/llm/router/errors.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog, type Fault, type WorldOptions } from './support.ts';

function pair(log: CallLog) {
  const primary = new TestBackend('primary', [model('p-large', 200_000, [3, 15])], log);
  const secondary = new TestBackend('secondary', [model('s-large', 200_000, [1, 5])], log);
  return { primary, secondary };
}

/** A world that tries `first` (its first model), then falls back to the secondary's s-large. */
function thenSecondary(first: TestBackend, log: CallLog, more: Omit<WorldOptions, 'backends' | 'plan'> = {}) {
  const { secondary } = pair(log);
  return world({
    backends: [first, secondary],
    plan: [
      { provider: first.name, model: first.models[0]!.id },
      { provider: 'secondary', model: 's-large' },
    ],
    ...more,
  });
}

const PLAN = [
  { provider: 'primary', model: 'p-large' },
  { provider: 'secondary', model: 's-large' },
];

describe('fallback and retries', () => {
  it('moves to the secondary at once on 529, without sleeping', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    primary.failNext({ kind: 'overloaded', retryAfterMs: 10_000 });
    const w = world({ backends: [primary, secondary], plan: PLAN });

    const res = await w.router.generate(ask(), ctx());

    expect(log).toEqual(['primary:p-large', 'secondary:s-large']);
    expect(w.waits).toEqual([]);
    expect(res.provider).toBe('secondary');
    expect(res.model).toBe('s-large');
    expect(res.text).toContain('secondary read 1 turns');
    expect(res.attempts.map((a) => [a.provider, a.status, a.reason])).toEqual([
      ['primary', 'failed', 'overloaded'],
      ['secondary', 'ok', undefined],
    ]);
    expect(res.attempts[0]?.detail).toContain('HTTP 529');
    // Cost at the secondary's prices: $1 in / $5 out per million tokens.
    expect(res.costUsd).toBeCloseTo((res.usage.inputTokens * 1 + res.usage.outputTokens * 5) / 1e6, 12);
  });

  // With base 1 s and random 0.99 the jittered backoff is 990 ms.
  it.each<[string, Fault, number]>([
    ['retry-after when it is longer than the backoff', { kind: 'rate_limited', retryAfterMs: 3_000 }, 3_000],
    ['the backoff when it is longer than retry-after', { kind: 'overloaded', retryAfterMs: 10 }, 990],
  ])('with a single target, waits for %s', async (_name, fault, wait) => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext(fault);
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm' }], options: { retry: { baseMs: 1_000 } }, random: 0.99 });

    const res = await w.router.generate(ask(), ctx());

    expect(w.waits).toEqual([wait]);
    expect(log).toEqual(['only:m', 'only:m']);
    expect(res.attempts.map((a) => [a.round, a.status])).toEqual([
      [0, 'failed'],
      [1, 'ok'],
    ]);
  });

  it('fails at once, saying when to retry, when retry-after is past the deadline', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'rate_limited', retryAfterMs: 600_000 });
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm' }], options: { timeouts: { totalMs: 60_000 } } });
    const now = w.clock.now();

    const err = await failure(w.router.generate(ask(), ctx()));

    expect(err).toBeInstanceOf(RouterError);
    const e = err as RouterError;
    expect(e.kind).toBe('exhausted');
    expect(e.retryAt).toBe(now + 600_000);
    expect(e.message).toContain(new Date(now + 600_000).toISOString());
    expect(w.waits).toEqual([]);
    expect(log).toEqual(['only:m']);
  });

  it('retries the target that is ready first instead of sleeping on a long retry-after', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    primary.failNext({ kind: 'rate_limited', retryAfterMs: 20_000 });
    secondary.failNext({ kind: 'server' });
    const w = world({ backends: [primary, secondary], plan: PLAN, options: { retry: { baseMs: 200 } } });

    const res = await w.router.generate(ask(), ctx());

    expect(log).toEqual(['primary:p-large', 'secondary:s-large', 'secondary:s-large']);
    expect(w.waits).toEqual([100]); // only the jittered backoff (0.5 × 200 ms)
    expect(res.provider).toBe('secondary');
  });

  it('bounds the number of retry rounds', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext(
      { kind: 'server' },
      { kind: 'server' },
      { kind: 'server' },
      { kind: 'server' },
    );
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm', breaker: { failureThreshold: 10 } }],
      options: { retry: { rounds: 2, baseMs: 100, maxMs: 1_000 } },
    });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('exhausted');
    expect(log).toHaveLength(3);
    expect(w.waits).toEqual([50, 100]); // 0.5 × 100 × 2^round
    expect(err.message).toMatch(/every language-model target failed: only\/m: server \(HTTP 500/);
  });

  it('stops waiting when the caller aborts during a backoff', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'overloaded' });
    const controller = new AbortController();
    const w = world({
      backends: [only],
      plan: [{ provider: 'only', model: 'm' }],
      extra: {
        sleep: async (_ms, signal) => {
          controller.abort(new Error('user left'));
          if (signal?.aborted) throw signal.reason;
        },
      },
    });
    const err = (await failure(w.router.generate(ask('hi', { signal: controller.signal }), ctx()))) as RouterError;
    expect(err.kind).toBe('aborted');
    expect(log).toEqual(['only:m']);
    expect(w.ledger.records.at(-1)?.outcome).toBe('error:aborted');
  });
});

describe('request errors', () => {
  it('moves on after an auth failure and never asks that target again', async () => {
    const log: CallLog = [];
    const keyed = new TestBackend('keyed', [model('k')], log, { requiresKey: true, acceptedKeys: ['good'] });
    const other = new TestBackend('other', [model('o')], log).failNext({ kind: 'overloaded' });
    const w = world({
      backends: [keyed, other],
      plan: [
        { provider: 'keyed', model: 'k' },
        { provider: 'other', model: 'o' },
      ],
      operatorKeys: { keyed: 'revoked' },
      operatorAllowed: ['g1'],
    });
    const res = await w.router.generate(ask(), ctx());
    expect(log).toEqual(['keyed:k', 'other:o', 'other:o']);
    expect(res.attempts.map((a) => a.reason)).toEqual(['auth', 'overloaded', undefined]);
    expect(w.logger.entries.some((e) => e.msg === 'provider rejected the API key')).toBe(true);
    expect(JSON.stringify(w.logger.entries)).not.toContain('revoked');
  });

  it('falls back once when the primary refuses the request, and never asks it again', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    primary.failNext({ kind: 'bad_request' });
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('secondary');
    expect(log).toEqual(['primary:p-large', 'secondary:s-large']);
    expect(res.attempts.map((a) => a.reason)).toEqual(['bad_request', undefined]);
  });

  it('stops with bad_request only when no target accepts the request, without retry rounds', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    primary.failNext({ kind: 'bad_request' });
    secondary.failNext({ kind: 'unsupported_parameter', status: 400 });
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('bad_request');
    expect(err.message).toContain('no provider accepted the request: secondary/s-large rejected the request itself (HTTP 400');
    expect(log).toEqual(['primary:p-large', 'secondary:s-large']);
    expect(w.waits).toEqual([]);
    expect(w.ledger.records.at(-1)?.outcome).toBe('error:bad_request');
  });

  it('passes over a model reported gone for ten minutes, then asks it again', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    primary.failNext({ kind: 'model_unavailable', status: 404 });
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const first = await w.router.generate(ask(), ctx());
    expect(first.provider).toBe('secondary');
    expect(first.attempts.map((a) => a.reason)).toEqual(['model_unavailable', undefined]);

    w.clock.advance(9 * 60_000);
    const second = await w.router.generate(ask(), ctx());
    expect(second.provider).toBe('secondary');
    expect(second.attempts[0]).toMatchObject({ provider: 'primary', status: 'skipped', reason: 'model_unavailable' });

    w.clock.advance(60_000);
    const third = await w.router.generate(ask(), ctx());
    expect(third.provider).toBe('primary');
    expect(log).toEqual(['primary:p-large', 'secondary:s-large', 'secondary:s-large', 'primary:p-large']);
    // The provider is fine: its circuit did not count the missing model.
    expect(w.router.circuits().every((c) => c.state === 'closed')).toBe(true);
  });

  it('clamps or omits temperature per the model declaration', async () => {
    const log: CallLog = [];
    const capped = new TestBackend('capped', [{ ...model('c'), temperature: { max: 1 } }], log);
    const fixed = new TestBackend('fixed', [{ ...model('f'), temperature: false }], log);
    const free = new TestBackend('free', [model('o')], log);
    for (const [backend, expected] of [[capped, 1], [fixed, undefined], [free, 1.5]] as const) {
      const w = world({ backends: [backend], plan: [{ provider: backend.name, model: backend.models[0]!.id }] });
      await w.router.generate(ask('hi', { temperature: 1.5 }), ctx());
      expect(backend.calls.at(-1)?.temperature).toBe(expected);
    }
  });

  it('refuses a malformed request with a clear message', async () => {
    const log: CallLog = [];
    const { primary } = pair(log);
    const w = world({ backends: [primary], plan: PLAN.slice(0, 1) });
    const err = (await failure(w.router.generate(ask('x', { maxTokens: 0 }), ctx()))) as RouterError;
    expect(err.kind).toBe('invalid_request');
    expect(err.message).toContain('"maxTokens" must be a positive whole number');
    expect(log).toEqual([]);
  });
});

describe('context windows', () => {
  it('skips a target whose window is too small before calling it', async () => {
    const log: CallLog = [];
    const small = new TestBackend('small', [model('tiny', 1_000)], log);
    const big = new TestBackend('big', [model('huge', 200_000)], log);
    const w = world({
      backends: [small, big],
      plan: [
        { provider: 'small', model: 'tiny' },
        { provider: 'big', model: 'huge' },
      ],
    });
    const res = await w.router.generate(ask('x'.repeat(8_000)), ctx());
    expect(small.calls).toHaveLength(0);
    expect(res.provider).toBe('big');
    expect(res.attempts[0]).toMatchObject({ provider: 'small', status: 'skipped', reason: 'context_window' });
    expect(res.attempts[0]?.detail).toMatch(/~2007 input tokens plus 500 for the answer exceed its 1000-token window/);
  });

  it('moves to a larger window when a provider reports context_length, skipping windows no larger', async () => {
    const log: CallLog = [];
    // Advertises 50k but really enforces 1k, like a deployment configured smaller than the model.
    const liar = new TestBackend('liar', [model('m50', 50_000)], log, { realWindow: 1_000 });
    const same = new TestBackend('same', [model('m40', 40_000)], log);
    const big = new TestBackend('big', [model('m200', 200_000)], log);
    const w = world({
      backends: [liar, same, big],
      plan: [
        { provider: 'liar', model: 'm50' },
        { provider: 'same', model: 'm40' },
        { provider: 'big', model: 'm200' },
      ],
    });
    const res = await w.router.generate(ask('y'.repeat(8_000)), ctx());
    expect(log).toEqual(['liar:m50', 'big:m200']);
    expect(res.attempts.map((a) => [a.provider, a.status, a.reason])).toEqual([
      ['liar', 'failed', 'context_length'],
      ['same', 'skipped', 'context_window'],
      ['big', 'ok', undefined],
    ]);
    expect(w.waits).toEqual([]);
  });

  it('fails clearly when no target is large enough', async () => {
    const log: CallLog = [];
    const small = new TestBackend('small', [model('tiny', 1_000)], log);
    const liar = new TestBackend('liar', [model('m50', 50_000)], log, { realWindow: 1_000 });
    const w = world({
      backends: [small, liar],
      plan: [
        { provider: 'small', model: 'tiny' },
        { provider: 'liar', model: 'm50' },
      ],
    });
    const err = (await failure(w.router.generate(ask('z'.repeat(8_000)), ctx()))) as RouterError;
    expect(err.kind).toBe('context_too_large');
    expect(err.message).toContain('does not fit any configured model; the largest window is 50000 tokens');
    expect(log).toEqual(['liar:m50']);
    expect(w.ledger.records.at(-1)?.outcome).toBe('error:context_too_large');
  });
});

describe('target selection', () => {
  it('puts a prompt’s preferred model first when the plan allows it', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const res = await w.router.generate(ask('hi', { preferred: { provider: 'secondary' } }), ctx());
    expect(log).toEqual(['secondary:s-large']);
    expect(res.preferredIgnored).toBeUndefined();
  });

  it('ignores a preference outside the plan and says so', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    const w = world({ backends: [primary, secondary], plan: PLAN });
    const res = await w.router.generate(ask('hi', { preferred: { provider: 'expensive', model: 'gold' } }), ctx());
    expect(log).toEqual(['primary:p-large']);
    expect(res.preferredIgnored).toContain('"expensive/gold"');
  });

  it('records missing and unhealthy providers and unknown models as reasons', async () => {
    const log: CallLog = [];
    const { primary, secondary } = pair(log);
    const w = world({
      backends: [primary, secondary],
      plan: [
        { provider: 'gone', model: 'x' },
        { provider: 'primary', model: 'nope' },
        { provider: 'primary', model: 'p-large' },
        { provider: 'secondary', model: 's-large' },
      ],
    });
    w.unhealthy.add('primary');
    const res = await w.router.generate(ask(), ctx());
    expect(res.attempts.map((a) => a.reason ?? a.status)).toEqual(['provider_missing', 'model_unknown', 'provider_unhealthy', 'ok']);
  });

  it('fails clearly when nothing can be called', async () => {
    const log: CallLog = [];
    const w = world({ backends: [], plan: [{ provider: 'gone', model: 'x' }] });
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterError;
    expect(err.kind).toBe('no_targets');
    expect(err.message).toContain('provider "gone" is not loaded');
    expect(log).toEqual([]);
  });
});

describe('timeouts', () => {
  it('gives up on a silent target after the attempt timeout and falls back', async () => {
    const log: CallLog = [];
    const stuck = new TestBackend('stuck', [model('s')], log, { stall: true });
    const w = thenSecondary(stuck, log, {
      options: { timeouts: { attemptMs: 20 } },
    });
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('secondary');
    expect(res.attempts[0]).toMatchObject({ reason: 'timeout', detail: 'no complete answer within 20 ms' });
    expect(stuck.calls[0]?.signal?.aborted).toBe(true);
  });

  it('hands the caller’s abort to the provider and stops', async () => {
    const log: CallLog = [];
    const stuck = new TestBackend('stuck', [model('s')], log, { stall: true });
    const w = thenSecondary(stuck, log);
    const controller = new AbortController();
    const pending = w.router.generate(ask('hi', { signal: controller.signal }), ctx());
    setTimeout(() => controller.abort(), 5);
    const err = (await failure(pending)) as RouterError;
    expect(err.kind).toBe('aborted');
    expect(log).toEqual(['stuck:s']);
    expect(stuck.calls[0]?.signal?.aborted).toBe(true);
  });

  it('treats a provider error unlike ProviderError as a server failure and moves on', async () => {
    const log: CallLog = [];
    const broken = new TestBackend('broken', [model('b')], log);
    broken.generate = async (request) => {
      log.push(`broken:${request.model}`);
      throw new TypeError('Cannot read properties of undefined');
    };
    const w = thenSecondary(broken, log);
    const res = await w.router.generate(ask(), ctx());
    expect(res.attempts[0]).toMatchObject({ reason: 'server', detail: 'provider "broken" failed unexpectedly' });
    expect(log).toEqual(['broken:b', 'secondary:s-large']);
  });

  it('cuts off a provider that ignores its signal', async () => {
    const log: CallLog = [];
    const deaf = new TestBackend('deaf', [model('d')], log);
    deaf.generate = (request) => {
      log.push(`deaf:${request.model}`);
      return new Promise(() => {}); // never settles, never looks at the signal
    };
    const w = thenSecondary(deaf, log, {
      options: { timeouts: { attemptMs: 20 } },
    });
    const res = await w.router.generate(ask(), ctx());
    expect(log).toEqual(['deaf:d', 'secondary:s-large']);
    expect(res.attempts[0]?.reason).toBe('timeout');
  });

  it('honours the caller’s own deadline when deciding whether to wait for retry-after', async () => {
    const log: CallLog = [];
    const only = new TestBackend('only', [model('m')], log).failNext({ kind: 'rate_limited', retryAfterMs: 5_000 });
    const w = world({ backends: [only], plan: [{ provider: 'only', model: 'm' }] });
    const deadline = w.clock.now() + 2_000;
    const err = (await failure(w.router.generate(ask('hi', { deadline }), ctx()))) as RouterError;
    expect(err.kind).toBe('exhausted');
    expect(err.message).toContain("is past this request's time limit");
    expect(w.waits).toEqual([]);
  });
});

describe('key lookup failures', () => {
  it('pass the target over with a reason instead of failing the call', async () => {
    const log: CallLog = [];
    const keyed = new TestBackend('keyed', [model('k')], log, { requiresKey: true, acceptedKeys: ['x'] });
    const w = thenSecondary(keyed, log, {
      extra: {
        keys: async (provider) => {
          if (provider === 'keyed') throw new Error('vault unreachable');
          return { source: 'none' };
        },
      },
    });
    const res = await w.router.generate(ask(), ctx());
    expect(res.attempts[0]).toMatchObject({ reason: 'no_key', detail: 'the API key for "keyed" could not be looked up' });
    expect(log).toEqual(['secondary:s-large']);
  });
});

describe('unexpected failures', () => {
  it('pass through unchanged and are logged whole, stack included', async () => {
    const log: CallLog = [];
    const { primary } = pair(log);
    const bug = new TypeError('plan table is corrupt');
    const w = world({
      backends: [primary],
      plan: () => {
        throw bug;
      },
    });
    expect(await failure(w.router.generate(ask(), ctx({ correlationId: 'c-bug' })))).toBe(bug);
    const logged = w.logger.entries.filter((e) => e.msg === 'router failed unexpectedly');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.obj).toMatchObject({ correlationId: 'c-bug', err: bug });
    expect((logged[0]!.obj as { err: Error }).err.stack).toContain('plan table is corrupt');
    expect(log).toEqual([]);
  });
});

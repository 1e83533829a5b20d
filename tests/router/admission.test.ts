import { describe, expect, it } from 'vitest';
import { RouterError, RouterRefusal } from '../../src/llm/router/errors.ts';
import { TestBackend, ask, ctx, failure, model, world, type CallLog } from './support.ts';

const PLAN = [{ provider: 'api', model: 'm' }];

function api(log: CallLog) {
  // $3 / $15 per million tokens.
  return new TestBackend('api', [model('m', 100_000, [3, 15])], log);
}

describe('daily budget', () => {
  it('refuses once today’s spend reaches the budget, before any provider call, until UTC midnight', async () => {
    const log: CallLog = [];
    const w = world({ backends: [api(log)], plan: PLAN });
    w.ledger.budgets.set('g1', 0.001);
    // About 2,000 input tokens at $3/M: $0.006, over the $0.001 budget.
    await w.router.generate(ask('x'.repeat(8_000)), ctx());
    expect(log).toHaveLength(1);

    const err = await failure(w.router.generate(ask(), ctx()));
    expect(err).toBeInstanceOf(RouterRefusal);
    const refusal = err as RouterRefusal;
    expect(refusal.kind).toBe('budget');
    expect(refusal.resetAt).toBe(Date.UTC(2025, 0, 16));
    expect(refusal.message).toContain("This server's daily budget of $0.001 is used up ($0.0064 spent today)");
    expect(refusal.message).toContain('resets at 2025-01-16T00:00:00.000Z (in 12 h)');
    expect(log).toHaveLength(1);
    expect(w.ledger.records.at(-1)).toMatchObject({ outcome: 'refused:budget', provider: null, costUsd: 0 });

    w.clock.set(Date.UTC(2025, 0, 16, 0, 0, 1));
    await w.router.generate(ask(), ctx());
    expect(log).toHaveLength(2);
  });

  it('refuses everything, with a clear message, when the budget is zero', async () => {
    const log: CallLog = [];
    const w = world({ backends: [api(log)], plan: PLAN });
    w.ledger.budgets.set('g1', 0);
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterRefusal;
    expect(err.kind).toBe('budget');
    expect(err.resetAt).toBeNull();
    expect(err.message).toContain('switched off for this server: its daily budget is $0');
    expect(log).toHaveLength(0);
    expect(w.ledger.spendReads).toBe(0);
  });

  it('leaves other guilds alone', async () => {
    const log: CallLog = [];
    const w = world({ backends: [api(log)], plan: PLAN });
    w.ledger.budgets.set('g1', 0);
    await w.router.generate(ask(), ctx({ guildId: 'g2' }));
    expect(log).toHaveLength(1);
  });
});

describe('request rates', () => {
  it('refuses a user over their rate before any provider call, saying when a token is back', async () => {
    const log: CallLog = [];
    const w = world({ backends: [api(log)], plan: PLAN, userRate: { capacity: 2, refillPerSecond: 0.1 } });
    await w.router.generate(ask(), ctx());
    await w.router.generate(ask(), ctx());
    const err = (await failure(w.router.generate(ask(), ctx()))) as RouterRefusal;
    expect(err).toBeInstanceOf(RouterRefusal);
    expect(err).toMatchObject({ kind: 'rate', scope: 'user', resetAt: w.clock.now() + 10_000 });
    expect(err.message).toBe(`Too many requests from you; try again at ${new Date(w.clock.now() + 10_000).toISOString()} (in 10 s).`);
    expect(log).toHaveLength(2);
    expect(w.ledger.records.at(-1)?.outcome).toBe('refused:rate');

    await w.router.generate(ask(), ctx({ userId: 'u2' })); // another user is unaffected
    w.clock.advance(10_000);
    await w.router.generate(ask(), ctx());
    expect(log).toHaveLength(4);
  });

  it('refuses a guild over its rate', async () => {
    const log: CallLog = [];
    const w = world({ backends: [api(log)], plan: PLAN, guildRate: { capacity: 1, refillPerSecond: 1 } });
    await w.router.generate(ask(), ctx({ userId: 'a' }));
    const err = (await failure(w.router.generate(ask(), ctx({ userId: 'b' })))) as RouterRefusal;
    expect(err).toMatchObject({ kind: 'rate', scope: 'guild', resetAt: w.clock.now() + 1_000 });
    expect(log).toHaveLength(1);
  });
});

describe('keys: a guild’s own key serves only that guild', () => {
  function keyed(log: CallLog) {
    return new TestBackend('api', [model('m')], log, { requiresKey: true, acceptedKeys: ['sk-g1', 'sk-operator'] });
  }
  const keys = {
    guildKeys: { g1: { api: 'sk-g1' } },
    operatorKeys: { api: 'sk-operator' },
    operatorAllowed: ['g3'],
  };

  it('uses the guild’s key for the guild, the operator’s only where allowed, and none otherwise', async () => {
    const log: CallLog = [];
    const backend = keyed(log);
    const w = world({ backends: [backend], plan: PLAN, ...keys });

    const own = await w.router.generate(ask(), ctx({ guildId: 'g1' }));
    expect(own.keySource).toBe('guild');
    const shared = await w.router.generate(ask(), ctx({ guildId: 'g3' }));
    expect(shared.keySource).toBe('operator');
    const err = (await failure(w.router.generate(ask(), ctx({ guildId: 'g2' })))) as RouterError;
    expect(err.kind).toBe('no_targets');
    expect(err.message).toContain(`no API key for "api": this server has none of its own and may not use the operator's`);

    expect(backend.calls.map((c) => c.apiKey)).toEqual(['sk-g1', 'sk-operator']);
    expect(w.ledger.records.map((r) => [r.guildId, r.keySource, r.outcome])).toEqual([
      ['g1', 'guild', 'ok'],
      ['g3', 'operator', 'ok'],
      ['g2', 'none', 'error:no_targets'],
    ]);
  });

  it('uses the operator’s key for calls outside any guild', async () => {
    const log: CallLog = [];
    const backend = keyed(log);
    const w = world({ backends: [backend], plan: PLAN, ...keys });
    const res = await w.router.generate(ask(), ctx({ guildId: undefined }));
    expect(res.keySource).toBe('operator');
    expect(backend.calls[0]?.apiKey).toBe('sk-operator');
  });

  it('never writes a key into logs, usage or errors', async () => {
    const log: CallLog = [];
    const backend = new TestBackend('api', [model('m')], log, { requiresKey: true, acceptedKeys: [] });
    const w = world({ backends: [backend], plan: PLAN, ...keys });
    const err = await failure(w.router.generate(ask(), ctx({ guildId: 'g1' })));
    const everything = JSON.stringify([w.logger.entries, w.ledger.records, err.message, (err as RouterError).attempts]);
    expect(everything).not.toContain('sk-g1');
    expect((err as RouterError).attempts[0]?.reason).toBe('auth');
  });
});

describe('usage', () => {
  it('records one entry per call for every outcome', async () => {
    const log: CallLog = [];
    const backend = api(log);
    const w = world({
      backends: [backend],
      plan: [{ provider: 'api', model: 'm', breaker: { failureThreshold: 1, coolDownMs: 60_000 } }],
      userRate: { capacity: 3, refillPerSecond: 0.001 },
      options: { retry: { rounds: 0 } },
    });
    const ok = await w.router.generate(ask(), ctx({ correlationId: 'ok' }));
    backend.failNext({ kind: 'overloaded' });
    await failure(w.router.generate(ask(), ctx({ correlationId: 'err' })));
    await failure(w.router.generate(ask(), ctx({ correlationId: 'open' })));
    await failure(w.router.generate(ask(), ctx({ correlationId: 'rate' })));
    w.ledger.budgets.set('g1', 0);
    await failure(w.router.generate(ask(), ctx({ correlationId: 'budget', userId: 'u9' })));

    expect(w.ledger.records.map((r) => [r.correlationId, r.outcome])).toEqual([
      ['ok', 'ok'],
      ['err', 'error:overloaded'],
      ['open', 'unavailable'],
      ['rate', 'refused:rate'],
      ['budget', 'refused:budget'],
    ]);
    expect(w.ledger.records[0]).toMatchObject({
      guildId: 'g1',
      userId: 'u1',
      task: 'summarize',
      provider: 'api',
      model: 'm',
      inputTokens: ok.usage.inputTokens,
      outputTokens: ok.usage.outputTokens,
      costUsd: ok.costUsd,
      keySource: 'none',
      at: new Date(w.clock.now()),
    });
    expect(ok.costUsd).toBeCloseTo((ok.usage.inputTokens * 3 + ok.usage.outputTokens * 15) / 1e6, 12);
  });

  it('never lets a failing sink fail the call', async () => {
    const log: CallLog = [];
    for (const record of [
      () => {
        throw new Error('db down');
      },
      () => Promise.reject(new Error('db down')),
    ]) {
      const w = world({ backends: [api(log)], plan: PLAN, extra: { usage: { record } } });
      const res = await w.router.generate(ask(), ctx());
      expect(res.provider).toBe('api');
      await new Promise((r) => setImmediate(r));
      expect(w.logger.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toEqual(['usage record was lost']);
    }
  });
});

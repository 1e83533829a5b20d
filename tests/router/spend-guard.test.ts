import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/resilience/clock.ts';
import { createKeyResolver } from '../../src/llm/router/key-resolver.ts';
import { createSpendGuard, nextUtcMidnight } from '../../src/llm/router/spend-guard.ts';
import { TokenBuckets } from '../../src/llm/router/token-bucket.ts';
import { UsageLedger, ctx } from './support.ts';

describe('token buckets', () => {
  it('allow a burst, then one request per refill interval', () => {
    const buckets = new TokenBuckets({ capacity: 3, refillPerSecond: 2 });
    const now = 1_000_000;
    expect([1, 2, 3].map(() => buckets.take('u', now).ok)).toEqual([true, true, true]);
    expect(buckets.take('u', now)).toEqual({ ok: false, availableAt: now + 500 });
    expect(buckets.take('u', now + 499).ok).toBe(false);
    expect(buckets.take('u', now + 500).ok).toBe(true);
    expect(buckets.take('other', now).ok).toBe(true);
  });

  it('forget idle keys once the map grows, keeping busy ones', () => {
    const buckets = new TokenBuckets({ capacity: 1, refillPerSecond: 1 }, 3);
    buckets.take('busy', 0);
    buckets.take('a', 500);
    buckets.take('b', 500);
    // At t=1,100 'busy' is full again (idle) while 'a' and 'b' are not.
    buckets.take('c', 1_100);
    expect(buckets.size).toBe(3);
    expect(buckets.take('a', 1_100).ok).toBe(false);
  });

  it('reject settings that could never admit anything', () => {
    expect(() => new TokenBuckets({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity >= 1/);
    expect(() => new TokenBuckets({ capacity: 1, refillPerSecond: 0 })).toThrow(/refillPerSecond > 0/);
  });
});

describe('spend guard', () => {
  it('computes the next UTC midnight', () => {
    expect(nextUtcMidnight(Date.UTC(2025, 11, 31, 23, 59, 59))).toBe(Date.UTC(2026, 0, 1));
    expect(nextUtcMidnight(Date.UTC(2025, 0, 1, 0, 0, 0))).toBe(Date.UTC(2025, 0, 2));
  });

  it('counts only today’s spend against the budget', async () => {
    const clock = new ManualClock(Date.UTC(2025, 2, 10, 9));
    const ledger = new UsageLedger();
    ledger.budgets.set('g1', 1);
    const entry = (at: number, costUsd: number) => ({
      guildId: 'g1',
      userId: 'u1',
      task: 'chat' as const,
      provider: 'p',
      model: 'm',
      inputTokens: 1,
      outputTokens: 1,
      costUsd,
      latencyMs: 1,
      outcome: 'ok' as const,
      correlationId: 'x',
      keySource: 'operator' as const,
      at: new Date(at),
    });
    ledger.record(entry(Date.UTC(2025, 2, 9, 23, 59), 5)); // yesterday
    ledger.record(entry(Date.UTC(2025, 2, 10, 1), 0.5));
    const guard = createSpendGuard({ store: ledger, clock });
    await expect(guard.admit(ctx())).resolves.toBeUndefined();
    ledger.record(entry(Date.UTC(2025, 2, 10, 2), 0.5));
    await expect(guard.admit(ctx())).rejects.toMatchObject({ kind: 'budget', resetAt: Date.UTC(2025, 2, 11) });
  });

  it('does not read spend for guilds without a budget or for calls without a guild', async () => {
    const ledger = new UsageLedger();
    const guard = createSpendGuard({ store: ledger, clock: new ManualClock(0) });
    await guard.admit(ctx({ guildId: 'no-budget' }));
    await guard.admit(ctx({ guildId: undefined }));
    expect(ledger.spendReads).toBe(0);
  });
});

describe('key resolver policy', () => {
  it('awaits async sources and never lends one guild’s key to another', async () => {
    const resolve = createKeyResolver({
      guildKey: async (provider, guildId) => (guildId === 'a' && provider === 'p' ? 'key-a' : undefined),
      operatorKey: () => 'key-op',
      mayUseOperatorKey: async (guildId) => guildId === 'c',
    });
    expect(await resolve('p', 'a')).toEqual({ apiKey: 'key-a', source: 'guild' });
    expect(await resolve('p', 'b')).toEqual({ source: 'none' });
    expect(await resolve('p', 'c')).toEqual({ apiKey: 'key-op', source: 'operator' });
    expect(await resolve('q', 'a')).toEqual({ source: 'none' });
  });
});

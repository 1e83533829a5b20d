/**
 * Admission before any provider is called: request rates per user and per
 * guild, then, given a SpendStore, the guild's daily budget as this process
 * sees it. A refusal names when it lifts. Budgets shared by every process
 * are reserved by the router instead (budget.ts).
 */
import type { CallContext } from '../plugin-host/types.ts';
import type { Clock } from '../../resilience/clock.ts';
import { RouterRefusal, describeWhen } from './errors.ts';
import { TokenBuckets, type BucketSettings } from './token-bucket.ts';
import { nextUtcMidnight, usd } from './budget.ts';

/** Where spend lives (the database in the service, memory in tests). */
export interface SpendStore {
  /** USD spent by the guild since the last UTC midnight before `now`. */
  spentToday(guildId: string, now: number): Promise<number>;
  /** The guild's daily budget in USD; null means no limit. */
  budgetFor(guildId: string): number | null | Promise<number | null>;
}

export interface SpendGuard {
  /** Resolves when the call may go ahead; rejects with a RouterRefusal otherwise. */
  admit(ctx: CallContext): Promise<void>;
}

export interface SpendGuardOptions {
  /**
   * A check of spend against the budget within this process, without
   * reservations. The service leaves it out: budgets are reserved in the
   * shared ledger by the router (budget.ts).
   */
  store?: SpendStore | undefined;
  clock: Clock;
  /** Omit to leave a scope unlimited. */
  userRate?: BucketSettings | undefined;
  guildRate?: BucketSettings | undefined;
}

export { nextUtcMidnight };

export function createSpendGuard(options: SpendGuardOptions): SpendGuard {
  const { store, clock } = options;
  const users = options.userRate ? new TokenBuckets(options.userRate) : undefined;
  const guilds = options.guildRate ? new TokenBuckets(options.guildRate) : undefined;

  return {
    async admit(ctx) {
      const now = clock.now();
      // Rates first: they are in memory, so a flood is turned away without touching the spend store.
      if (users && ctx.userId !== undefined) {
        const taken = users.take(ctx.userId, now);
        if (!taken.ok) {
          throw new RouterRefusal(
            'rate',
            'user',
            taken.availableAt,
            `Too many requests from you; try again at ${describeWhen(taken.availableAt, now)}.`,
          );
        }
      }
      if (ctx.guildId === undefined) return;
      if (guilds) {
        const taken = guilds.take(ctx.guildId, now);
        if (!taken.ok) {
          throw new RouterRefusal(
            'rate',
            'guild',
            taken.availableAt,
            `Too many requests from this server; try again at ${describeWhen(taken.availableAt, now)}.`,
          );
        }
      }
      if (store === undefined) return;
      const budget = await store.budgetFor(ctx.guildId);
      if (budget === null) return;
      if (!(budget > 0)) {
        throw new RouterRefusal(
          'budget',
          'guild',
          null,
          'Language-model calls are switched off for this server: its daily budget is $0. An admin can raise the budget to turn them on.',
        );
      }
      const spent = await store.spentToday(ctx.guildId, now);
      if (spent >= budget) {
        const resetAt = nextUtcMidnight(now);
        throw new RouterRefusal(
          'budget',
          'guild',
          resetAt,
          `This server's daily budget of ${usd(budget)} is used up (${usd(spent)} spent today); it resets at ${describeWhen(resetAt, now)}.`,
        );
      }
    },
  };
}

/**
 * The budget's view of spending: what a guild's calls paid with the
 * operator's key have cost since the last UTC midnight. Only the first check
 * of a day reads the database; after that the total is kept in memory and
 * every recorded cost is added to it, so the hot path does not query per call.
 *
 * Exactness rests on the usage writer's ordering: the day's sum is read
 * after every record received so far is written and before any later one is,
 * and exactly those later ones are added in memory. Other processes sharing
 * the database are not seen until the next day's load (or a restart); run one
 * bot process per database if budgets must be exact across processes.
 */
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../resilience/clock.ts';
import { nextUtcMidnight, type SpendStore } from './router/spend-guard.ts';
import type { UsageRecord } from './router/types.ts';
import { messageOf } from '../log/error-message.ts';

export const DAY_MS = 86_400_000;

export function utcDayStart(now: number): number {
  return nextUtcMidnight(now) - DAY_MS;
}

interface SpendLedger extends SpendStore {
  /** Feed every usage record here as it is recorded. */
  note(entry: UsageRecord): void;
}

class SpendUnknownError extends Error {
  override readonly name = 'SpendUnknownError';
}

interface SpendStoreOptions {
  db: Kysely<Database>;
  /** The guild's daily budget in USD, null for none (from its AI settings). */
  budgetFor(guildId: string): Promise<number | null>;
  /** The usage writer's ordering guarantee (see usage-writer.ts). */
  afterPendingWrites<T>(work: () => Promise<T>): Promise<T>;
  clock: Clock;
  /** Guild totals kept in memory; default 10,000. */
  maxGuilds?: number;
}

interface DayTotal {
  /** UTC midnight the total counts from. */
  day: number;
  total: number;
  loaded: Promise<void>;
}

export function createSpendStore(options: SpendStoreOptions): SpendLedger {
  const db = options.db;
  const totals = new LRUCache<string, DayTotal>({ max: options.maxGuilds ?? 10_000 });

  async function sumSince(guildId: string, day: number): Promise<number> {
    const row = await db
      .selectFrom('llm_calls')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('cost_usd'), eb.val('0')).as('spent'))
      .where('guild_id', '=', guildId)
      .where('key_source', '=', 'operator')
      .where('created_at', '>=', new Date(day))
      .where('created_at', '<', new Date(day + DAY_MS))
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }

  return {
    note(entry) {
      if (entry.keySource !== 'operator' || entry.guildId === null || !(entry.costUsd > 0)) return;
      const current = totals.get(entry.guildId);
      // A record for another day than the one held is in the database for when that day is loaded.
      if (current !== undefined && current.day === utcDayStart(entry.at.getTime())) current.total += entry.costUsd;
    },

    async spentToday(guildId, now) {
      const day = utcDayStart(now);
      let current = totals.get(guildId);
      if (current === undefined || current.day !== day) {
        // Created before the read is queued: costs recorded from here on are added in memory, not read.
        const entry: DayTotal = { day, total: 0, loaded: Promise.resolve() };
        entry.loaded = options.afterPendingWrites(() => sumSince(guildId, day)).then(
          (spent) => {
            entry.total += spent;
          },
          (err: unknown) => {
            if (totals.get(guildId) === entry) totals.delete(guildId);
            throw new SpendUnknownError(
              `today's spending for this server could not be read from the database (${messageOf(err)}), ` +
                'so no paid call is made until it can be',
              { cause: err },
            );
          },
        );
        totals.set(guildId, entry);
        current = entry;
      }
      await current.loaded;
      return current.total;
    },

    budgetFor: (guildId) => options.budgetFor(guildId),
  };
}

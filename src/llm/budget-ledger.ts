/**
 * The database BudgetLedger: per guild and UTC day, the settled spend of
 * calls paid with the operator's key (`llm_budget_days`) and the
 * reservations of calls in flight (`llm_budget_holds`), shared by every
 * process on the database.
 *
 * A reservation locks the day's row, so reservations for one guild are taken
 * one at a time across processes: each sees every earlier one. A day's row is
 * started from that day's `llm_calls` (calls made while the guild had no
 * budget, or before this ledger existed). A hold counts until its lease runs
 * out, so a process that dies mid-call stops holding budget after the call's
 * deadline plus a minute. The 80% and 100% thresholds are marked on the day's
 * row by a conditional update, so exactly one process posts each notice.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';
import type { Clock } from '../resilience/clock.ts';
import type { PluginLogger } from './plugin-host/types.ts';
import { nextUtcMidnight, usd, type BudgetHold, type BudgetLedger, type Reservation } from './router/budget.ts';
import { messageOf } from '../log/error-message.ts';

export const DAY_MS = 86_400_000;

export function utcDayStart(now: number): number {
  return nextUtcMidnight(now) - DAY_MS;
}

/** 'YYYY-MM-DD' of the UTC day holding `now`. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

const THRESHOLDS = [80, 100] as const;
type Threshold = (typeof THRESHOLDS)[number];

/** A guild's budget day as `/ai-config status` shows it. */
export interface BudgetDay {
  day: string;
  spentUsd: number;
  /** Reserved by calls in progress. */
  heldUsd: number;
  crossed80At: Date | null;
  crossed100At: Date | null;
}

export interface DatabaseBudgetLedger extends BudgetLedger {
  /** Today's spend, holds and threshold crossings for the guild. */
  today(guildId: string): Promise<BudgetDay>;
  /** Resolves once every settlement started so far is written. */
  drain(): Promise<void>;
}

interface BudgetLedgerOptions {
  db: Kysely<Database>;
  /** The guild's daily budget in USD, null for none (from its AI settings). */
  budgetFor(guildId: string): number | null | Promise<number | null>;
  clock: Clock;
  logger: PluginLogger;
  /** Where the 80% and 100% notices go; without it they are only marked (and shown by `/ai-config status`). */
  notices?: AdminNotices | undefined;
  /** The usage writer's ordering (usage-writer.ts): a day's row starts from `llm_calls` once this process's records are in. */
  afterPendingWrites?: <T>(work: () => Promise<T>) => Promise<T>;
}

const scopeOf = (guildId: string): string => `guild:${guildId}`;

export function createBudgetLedger(options: BudgetLedgerOptions): DatabaseBudgetLedger {
  const { db, clock, logger } = options;
  /** Settlements in flight, by guild: a reservation waits for this process's own, so a call sees the cost of the one before it. */
  const settling = new Map<string, Set<Promise<void>>>();
  const afterPendingWrites = options.afterPendingWrites ?? (<T>(work: () => Promise<T>) => work());

  type Tx = Kysely<Database>;

  async function dayExists(scope: string, day: string): Promise<boolean> {
    const row = await db.selectFrom('llm_budget_days').select('scope').where('scope', '=', scope).where('day', '=', day).executeTakeFirst();
    return row !== undefined;
  }

  async function lockDay(tx: Tx, scope: string, day: string): Promise<{ spent_usd: string } | undefined> {
    return tx.selectFrom('llm_budget_days').select('spent_usd').where('scope', '=', scope).where('day', '=', day).forUpdate().executeTakeFirst();
  }

  /** Starts the day's row from what `llm_calls` already holds for it; another process may have just started it. */
  async function startDay(tx: Tx, guildId: string, scope: string, day: string, now: number): Promise<void> {
    const from = new Date(utcDayStart(now));
    const to = new Date(utcDayStart(now) + DAY_MS);
    await sql`
      insert into llm_budget_days (scope, day, spent_usd, updated_at)
      select ${scope}, ${day}, coalesce(sum(cost_usd), 0), ${new Date(now)}
        from llm_calls
       where guild_id = ${guildId} and key_source = 'operator' and created_at >= ${from} and created_at < ${to}
      on conflict (scope, day) do nothing`.execute(tx);
  }

  async function heldSum(tx: Tx, scope: string, day: string, now: number): Promise<number> {
    const row = await tx
      .selectFrom('llm_budget_holds')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount_usd'), eb.val('0')).as('held'))
      .where('scope', '=', scope)
      .where('day', '=', day)
      .where('expires_at', '>', new Date(now))
      .executeTakeFirst();
    return Number(row?.held ?? 0);
  }

  async function reserve(request: Parameters<BudgetLedger['reserve']>[0]): Promise<Reservation> {
    const { guildId, budgetUsd, now } = request;
    const scope = scopeOf(guildId);
    const day = utcDay(now);
    const amount = Math.min(Math.max(request.amountUsd, 0), 99_999_999).toFixed(6);
    const own = settling.get(guildId);
    if (own !== undefined) await Promise.all([...own]);
    // Once per guild and day: the insert is idempotent, so a race between processes starts it once.
    if (!(await dayExists(scope, day))) await afterPendingWrites(() => startDay(db, guildId, scope, day, now));
    return db.transaction().execute(async (tx) => {
      let row = await lockDay(tx, scope, day);
      if (row === undefined) {
        // Started without this process's unwritten records: better than no row to lock.
        await startDay(tx, guildId, scope, day, now);
        row = await lockDay(tx, scope, day);
      }
      const spentUsd = Number(row?.spent_usd ?? 0);
      // Holds whose lease ran out belong to calls that never settled (a process died): they stop counting.
      await tx.deleteFrom('llm_budget_holds').where('scope', '=', scope).where('expires_at', '<=', new Date(now)).execute();
      const heldUsd = await heldSum(tx, scope, day, now);
      if (!(spentUsd + heldUsd < budgetUsd)) return { ok: false as const, spentUsd, heldUsd };
      const inserted = await tx
        .insertInto('llm_budget_holds')
        .values({ scope, day, amount_usd: amount, expires_at: new Date(now + Math.max(request.leaseMs, 1_000)) })
        .returning('id')
        .executeTakeFirstOrThrow();
      const hold: BudgetHold = { id: String(inserted.id), guildId, day, amountUsd: Number(amount), budgetUsd };
      return { ok: true as const, hold };
    });
  }

  async function settleNow(hold: BudgetHold, costUsd: number): Promise<void> {
    const scope = scopeOf(hold.guildId);
    const cost = Math.min(Math.max(costUsd, 0), 99_999_999);
    if (!(cost > 0)) {
      await db.deleteFrom('llm_budget_holds').where('id', '=', hold.id).execute();
      return;
    }
    // One statement: the spend is added and the hold dropped together, never one without the other.
    const now = new Date(clock.now());
    const result = await sql<{ spent_usd: string; crossed_80_at: Date | null; crossed_100_at: Date | null }>`
      with gone as (delete from llm_budget_holds where id = ${hold.id})
      update llm_budget_days set spent_usd = spent_usd + ${cost.toFixed(6)}::numeric, updated_at = ${now}
       where scope = ${scope} and day = ${hold.day}
      returning spent_usd, crossed_80_at, crossed_100_at`.execute(db);
    const row = result.rows[0];
    if (row === undefined) return;
    const spent = Number(row.spent_usd);
    for (const threshold of THRESHOLDS) {
      const marked = threshold === 80 ? row.crossed_80_at : row.crossed_100_at;
      if (marked === null && spent >= (hold.budgetUsd * threshold) / 100) await markCrossing(hold, threshold, now);
    }
  }

  /** Only the update that finds the mark still unset posts the notice. */
  async function markCrossing(hold: BudgetHold, threshold: Threshold, now: Date): Promise<void> {
    const column = threshold === 80 ? 'crossed_80_at' : 'crossed_100_at';
    const won = await db
      .updateTable('llm_budget_days')
      .set({ [column]: now })
      .where('scope', '=', scopeOf(hold.guildId))
      .where('day', '=', hold.day)
      .where(column, 'is', null)
      .returning('spent_usd')
      .executeTakeFirst();
    if (won === undefined) return;
    const spent = Number(won.spent_usd);
    logger.info({ guildId: hold.guildId, day: hold.day, threshold, spentUsd: spent, budgetUsd: hold.budgetUsd }, 'daily budget threshold crossed');
    if (options.notices === undefined) return;
    const resets = 'It resets at 00:00 UTC.';
    try {
      await options.notices.post({
        guildId: hold.guildId,
        kind: 'budget-threshold',
        cause: `budget:${hold.day}:${threshold}`,
        title: threshold === 100 ? 'Daily language-model budget used up' : '80% of the daily language-model budget used',
        lines: [
          `${usd(spent)} of this server's ${usd(hold.budgetUsd)} daily budget is spent (UTC day ${hold.day}) on calls paid with the operator's key.`,
          threshold === 100
            ? `Calls paid with the operator's key are refused until the budget resets or an admin raises it with /ai-config budget; calls with this server's own keys go on. ${resets}`
            : `At 100%, calls paid with the operator's key are refused until the day ends. ${resets}`,
        ],
      });
    } catch (err) {
      logger.warn({ guildId: hold.guildId, threshold, err: messageOf(err) }, 'budget threshold notice could not be posted');
    }
  }

  return {
    budgetFor: (guildId) => options.budgetFor(guildId),
    reserve,
    settle(hold, costUsd) {
      const run = settleNow(hold, costUsd).catch((err: unknown) => {
        // The hold runs out with its lease; the cost is still in llm_calls.
        logger.error({ guildId: hold.guildId, costUsd, err: messageOf(err) }, 'a call’s cost could not be settled against the budget');
      });
      let own = settling.get(hold.guildId);
      if (own === undefined) settling.set(hold.guildId, (own = new Set()));
      const mine = own;
      mine.add(run);
      void run.finally(() => {
        mine.delete(run);
        if (mine.size === 0 && settling.get(hold.guildId) === mine) settling.delete(hold.guildId);
      });
      return run;
    },
    async today(guildId) {
      const now = clock.now();
      const scope = scopeOf(guildId);
      const day = utcDay(now);
      const row = await db
        .selectFrom('llm_budget_days')
        .select(['spent_usd', 'crossed_80_at', 'crossed_100_at'])
        .where('scope', '=', scope)
        .where('day', '=', day)
        .executeTakeFirst();
      const heldUsd = await heldSum(db, scope, day, now);
      return {
        day,
        spentUsd: Number(row?.spent_usd ?? 0),
        heldUsd,
        crossed80At: row?.crossed_80_at ?? null,
        crossed100At: row?.crossed_100_at ?? null,
      };
    },
    async drain() {
      while (settling.size > 0) await Promise.all([...settling.values()].flatMap((own) => [...own]));
    },
  };
}

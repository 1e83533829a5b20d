/**
 * Usage reports for `/ai-config usage`: today's calls and the last N days'
 * (calendar days in UTC, today included), by provider and model, from
 * `llm_calls`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../resilience/clock.ts';
import { DAY_MS, utcDayStart } from './budget-ledger.ts';

export interface UsageTotals {
  requests: number;
  /** Calls that produced no answer (errors, refusals, nothing available). */
  failed: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The part of `costUsd` paid with the operator's key: what the daily budget counts. */
  operatorCostUsd: number;
}

export interface TargetUsage extends UsageTotals {
  /** null for calls that reached no provider. */
  provider: string | null;
  model: string | null;
}

export interface UsagePeriod extends UsageTotals {
  since: Date;
  /** Most expensive first, then most requests. */
  byTarget: TargetUsage[];
}

export interface UsageSummary {
  today: UsagePeriod;
  lastDays: UsagePeriod & { days: number };
}

const MAX_SUMMARY_DAYS = 90;

export async function usageSummary(
  db: Kysely<Database>,
  clock: Clock,
  guildId: string,
  options: { days?: number } = {},
): Promise<UsageSummary> {
  const days = options.days ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > MAX_SUMMARY_DAYS) {
    throw new RangeError(`days must be a whole number from 1 to ${MAX_SUMMARY_DAYS} (got ${String(days)})`);
  }
  const today = utcDayStart(clock.now());
  const since = today - (days - 1) * DAY_MS;
  const rows = await db
    .selectFrom('llm_calls')
    .select((eb) => [
      'provider',
      'model',
      // Bucketed in SQL so a long period is one small result, not every row.
      eb.fn.countAll<string>().as('requests'),
      eb.fn.sum<string>(eb.case().when('outcome', '<>', 'ok').then(1).else(0).end()).as('failed'),
      eb.fn.sum<string>('input_tokens').as('input_tokens'),
      eb.fn.sum<string>('output_tokens').as('output_tokens'),
      eb.fn.sum<string>('cost_usd').as('cost'),
      eb.fn.sum<string>(eb.case().when('key_source', '=', 'operator').then(eb.ref('cost_usd')).else(eb.val('0')).end()).as('operator_cost'),
      eb.case().when('created_at', '>=', new Date(today)).then(true).else(false).end().as('is_today'),
    ])
    .where('guild_id', '=', guildId)
    .where('created_at', '>=', new Date(since))
    .groupBy(['provider', 'model', 'is_today'])
    .execute();

  const period = (from: number, include: (isToday: boolean) => boolean): UsagePeriod => {
    const byKey = new Map<string, TargetUsage>();
    for (const row of rows) {
      if (!include(row.is_today === true)) continue;
      const key = `${row.provider ?? ''}\u0000${row.model ?? ''}`;
      const target = byKey.get(key) ?? { provider: row.provider, model: row.model, ...emptyTotals() };
      add(target, {
        requests: Number(row.requests),
        failed: Number(row.failed ?? 0),
        inputTokens: Number(row.input_tokens ?? 0),
        outputTokens: Number(row.output_tokens ?? 0),
        costUsd: Number(row.cost ?? 0),
        operatorCostUsd: Number(row.operator_cost ?? 0),
      });
      byKey.set(key, target);
    }
    const byTarget = [...byKey.values()].sort((a, b) => b.costUsd - a.costUsd || b.requests - a.requests);
    const totals = emptyTotals();
    for (const t of byTarget) add(totals, t);
    return { since: new Date(from), ...totals, byTarget: byTarget.map(roundCosts) };
  };

  return {
    today: roundCosts(period(today, (isToday) => isToday)),
    lastDays: { ...roundCosts(period(since, () => true)), days },
  };
}

function emptyTotals(): UsageTotals {
  return { requests: 0, failed: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, operatorCostUsd: 0 };
}

function add(into: UsageTotals, from: UsageTotals): void {
  into.requests += from.requests;
  into.failed += from.failed;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.costUsd += from.costUsd;
  into.operatorCostUsd += from.operatorCostUsd;
}

/** The column holds six decimals; sums of floats should not show more. */
function roundCosts<T extends UsageTotals>(t: T): T {
  return { ...t, costUsd: Number(t.costUsd.toFixed(6)), operatorCostUsd: Number(t.operatorCostUsd.toFixed(6)) };
}

import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { DAY_MS, utcDayStart } from '../../llm/budget-ledger.ts';

/** What the usage page charts: cost per UTC day and provider, and calls by outcome, from `llm_calls`. */
export interface UsageDays {
  /** UTC midnights, oldest first, one per day of the period (days without calls included). */
  days: number[];
  /** Provider (`none` for calls that reached none) → USD per day, aligned with `days`. */
  costByProvider: Record<string, number[]>;
  /** The part paid with the operator's key, per day: what the daily budget counts. */
  operatorCost: number[];
  outcomes: Array<{ outcome: string; calls: number }>;
}

export const MAX_USAGE_DAYS = 90;

export async function usageDays(db: Kysely<Database>, guildId: string, now: number, days: number): Promise<UsageDays> {
  const n = Math.min(Math.max(1, Math.floor(days)), MAX_USAGE_DAYS);
  const first = utcDayStart(now) - (n - 1) * DAY_MS;
  const since = new Date(first);
  // Bucketed in SQL: 90 days are a few hundred rows whatever the number of calls.
  const day = sql<Date>`date_trunc('day', created_at at time zone 'UTC')`;
  const [byDay, outcomes] = await Promise.all([
    db
      .selectFrom('llm_calls')
      .select((eb) => [
        day.as('day'),
        eb.fn.coalesce('provider', sql<string>`'none'`).as('provider'),
        eb.fn.sum<string>('cost_usd').as('cost'),
        eb.fn.sum<string>(eb.case().when('key_source', '=', 'operator').then(eb.ref('cost_usd')).else(sql<string>`0`).end()).as('operator_cost'),
      ])
      .where('guild_id', '=', guildId)
      .where('created_at', '>=', since)
      .groupBy([day, 'provider'])
      .execute(),
    db
      .selectFrom('llm_calls')
      .select((eb) => ['outcome', eb.fn.countAll<string>().as('calls')])
      .where('guild_id', '=', guildId)
      .where('created_at', '>=', since)
      .groupBy('outcome')
      .orderBy('calls', 'desc')
      .execute(),
  ]);
  const dayList = Array.from({ length: n }, (_, i) => first + i * DAY_MS);
  const costByProvider: Record<string, number[]> = {};
  const operatorCost = new Array<number>(n).fill(0);
  for (const row of byDay) {
    // date_trunc of a `timestamp` comes back as local-time text on some drivers: read it as UTC.
    const at = row.day instanceof Date ? row.day.getTime() - row.day.getTimezoneOffset() * 60_000 : Date.parse(`${String(row.day)}Z`);
    const index = Math.round((utcDayStart(at) - first) / DAY_MS);
    if (index < 0 || index >= n) continue;
    const series = (costByProvider[row.provider] ??= new Array<number>(n).fill(0));
    series[index] = (series[index] ?? 0) + Number(row.cost ?? 0);
    operatorCost[index] = (operatorCost[index] ?? 0) + Number(row.operator_cost ?? 0);
  }
  return { days: dayList, costByProvider, operatorCost, outcomes: outcomes.map((o) => ({ outcome: o.outcome, calls: Number(o.calls) })) };
}

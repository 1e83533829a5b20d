import type { ColumnType, Generated } from 'kysely';
import type { Numeric, Timestamp } from '../db/column-types.ts';

/**
 * Table types for the language-model service (migration 0003_llm_usage).
 * Merged into the application's `Database` in src/db/schema.ts.
 */

export interface LlmCallsTable {
  /** bigserial, returned as a string by the drivers. */
  id: Generated<string>;
  guild_id: string | null;
  user_id: string | null;
  task: string;
  provider: string | null;
  model: string | null;
  input_tokens: ColumnType<number, number | undefined, number>;
  output_tokens: ColumnType<number, number | undefined, number>;
  /** Input tokens read from / written to the provider's prompt cache (not in input_tokens). */
  cache_read_tokens: ColumnType<number, number | undefined, number>;
  cache_write_tokens: ColumnType<number, number | undefined, number>;
  /** The token counts (and so the cost) are the project's estimate: the provider reported none. */
  estimated: ColumnType<boolean, boolean | undefined, boolean>;
  cost_usd: Numeric;
  latency_ms: number;
  /** A UsageOutcome: ok, error:<kind>, refused:budget, refused:rate, unavailable. */
  outcome: string;
  /** Whose key paid: guild, operator or none. */
  key_source: string;
  correlation_id: string;
  created_at: Timestamp;
}

/** Migration 0012_llm_budget_ledger: a budget scope's settled spend per UTC day. */
export interface LlmBudgetDaysTable {
  /** `guild:<id>`. */
  scope: string;
  /** The UTC day, 'YYYY-MM-DD'. */
  day: string;
  spent_usd: Numeric;
  crossed_80_at: Timestamp | null;
  crossed_100_at: Timestamp | null;
  updated_at: Timestamp;
}

/** A call's reservation while it runs; past `expires_at` it no longer counts. */
export interface LlmBudgetHoldsTable {
  id: Generated<string>;
  scope: string;
  day: string;
  amount_usd: Numeric<'no default'>;
  expires_at: Timestamp<'no default'>;
  created_at: Timestamp;
}

export interface LlmTables {
  llm_calls: LlmCallsTable;
  llm_budget_days: LlmBudgetDaysTable;
  llm_budget_holds: LlmBudgetHoldsTable;
}

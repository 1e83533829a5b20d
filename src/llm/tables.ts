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

export interface LlmTables {
  llm_calls: LlmCallsTable;
}

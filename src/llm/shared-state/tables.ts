import type { ColumnType } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

/** Table types for the router's shared state (migration 0013_llm_shared_state). */

/** Written only by rate-limiter-flexible's Postgres store. */
export interface LlmRateLimitsTable {
  key: string;
  points: ColumnType<number, number | undefined, number>;
  /** ms since epoch; bigint, so the drivers return a string. */
  expire: ColumnType<string | null, number | string | null, number | string | null>;
}

export interface LlmTargetStateTable {
  target: string;
  /** '' for the operator's key, else the guild whose own key this row is about. */
  scope: string;
  cooldown_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  open_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  probe_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  updated_at: Timestamp<'no default'>;
}

import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/column-types.ts';
import type { Cadence } from './schedule.ts';

/** Table types for digests (migration 0015_jobs_and_digests), part of `Database`. */

export type DigestOutcome = 'running' | 'posted' | 'skipped-quiet' | 'not-posted' | 'paused' | 'failed';

export interface DigestsTable {
  id: string;
  guild_id: string;
  source_id: string;
  source_kind: 'channel' | 'category';
  destination_id: string;
  cadence: ColumnType<Cadence, Cadence, Cadence>;
  at: string;
  timezone: string;
  cron: string | null;
  type: string | null;
  perspective: string | null;
  language: string | null;
  skip_if_quiet: ColumnType<boolean, boolean | undefined, boolean>;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  paused_reason: string | null;
  /** The next due time; the scheduler takes it by compare-and-set, so one process enqueues each. */
  next_run_at: Timestamp<'no default'>;
  /** Where the next run's window starts: the end of the previous run's, so nothing is read twice or lost. */
  window_start: Timestamp<'no default'>;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DigestRunsTable {
  id: string;
  digest_id: string;
  guild_id: string;
  /** With digest_id, unique: one run per due time, whatever retries or processes. */
  due_at: Timestamp<'no default'>;
  trigger: 'schedule' | 'run-now';
  window_start: Timestamp<'no default'>;
  window_end: Timestamp<'no default'>;
  outcome: ColumnType<DigestOutcome, DigestOutcome, DigestOutcome>;
  message_count: number | null;
  message_url: string | null;
  /** Why it was not posted, or the error. */
  detail: string | null;
  job_id: string | null;
  started_at: Timestamp<'no default'>;
  finished_at: Timestamp | null;
}

import type { ColumnType } from 'kysely';
import type { Json, Timestamp } from '../db/column-types.ts';
import type { JobState } from './job-queue.ts';

/** Table types for the job queue (migration 0015_jobs_and_digests), part of `Database`. */

export interface JobsTable {
  id: string;
  kind: string;
  guild_id: string | null;
  payload: Json<Record<string, unknown>>;
  state: ColumnType<JobState, JobState, JobState>;
  /** While the job is queued or running, no second job with this key exists (a partial unique index). */
  dedupe_key: string | null;
  /** Claims so far, this one included. */
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: ColumnType<number, number | undefined, number>;
  /** Not claimed before this time (first run, or the retry's backoff). */
  run_at: Timestamp;
  /** Who holds the running job: one token per claim, so a stale holder can neither finish nor extend it. */
  lease_owner: string | null;
  /** Past this, the holder is presumed dead and any process may claim the job again. */
  lease_until: Timestamp | null;
  last_error: string | null;
  result: Json<Record<string, unknown>> | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
}

/** One row per recurring kind: the next slot, taken by compare-and-set so one process enqueues it. */
export interface JobSchedulesTable {
  kind: string;
  interval_ms: ColumnType<string, number | string, number | string>;
  next_run_at: Timestamp;
  last_job_id: string | null;
}

export interface JobTables {
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
}

import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobRecord, NewJob } from './job-queue.ts';
import type { JobsTable } from './tables.ts';

/** The SQL behind the job queue; every statement runs on Postgres 15 and PGlite. */

type Executor = Kysely<Database> | Transaction<Database>;

const LIVE = ['queued', 'running'] as const;
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Stored error text is for people reading the table; a handler's error may be long or hostile. */
const MAX_ERROR_CHARS = 2_000;

export interface ClaimedJob {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  leaseOwner: string;
}

export function clipError(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

/**
 * Inserts a job, or returns the live one holding the same dedupe key. Takes
 * an executor so a caller can enqueue inside its own transaction (a
 * scheduler advancing its next run and enqueueing it, atomically).
 */
export async function insertJob(db: Executor, job: NewJob, now: Date): Promise<{ id: string; created: boolean }> {
  if (!Number.isInteger(job.maxAttempts ?? 1) || (job.maxAttempts ?? 1) < 1) {
    throw new RangeError(`maxAttempts must be a whole number of at least 1 (got ${String(job.maxAttempts)})`);
  }
  for (let tries = 0; tries < 5; tries += 1) {
    const id = randomUUID();
    const inserted = await db
      .insertInto('jobs')
      .values({
        id,
        kind: job.kind,
        guild_id: job.guildId ?? null,
        payload: JSON.stringify(job.payload),
        state: 'queued',
        dedupe_key: job.dedupeKey ?? null,
        max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        run_at: job.runAt ?? now,
        created_at: now,
      })
      .onConflict((oc) => oc.column('dedupe_key').where('state', 'in', LIVE).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted !== undefined) return { id: inserted.id, created: true };
    const live = await db
      .selectFrom('jobs')
      .select('id')
      .where('dedupe_key', '=', job.dedupeKey as string)
      .where('state', 'in', LIVE)
      .executeTakeFirst();
    if (live !== undefined) return { id: live.id, created: false };
    // The holder finished between the insert and the look-up: try the insert again.
  }
  throw new Error(`could not enqueue ${job.kind}: the dedupe key kept changing hands`);
}

/**
 * Takes up to `limit` due jobs of these kinds: queued ones whose time has
 * come, and running ones whose holder's lease ran out (a killed process).
 * SKIP LOCKED lets every process claim at once without waiting on, or
 * taking, each other's rows.
 */
export async function claimJobs(
  db: Executor,
  input: { kinds: readonly string[]; limit: number; owner: string; now: Date; leaseUntil: Date },
): Promise<ClaimedJob[]> {
  if (input.kinds.length === 0 || input.limit <= 0) return [];
  // The due rows are picked in a CTE, which Postgres evaluates once, so the LIMIT holds.
  const rows = await db
    .with('due', (qb) =>
      qb
        .selectFrom('jobs')
        .select('id')
        .where('kind', 'in', input.kinds)
        .where((w) =>
          w.or([
            w.and([w('state', '=', 'queued'), w('run_at', '<=', input.now)]),
            w.and([w('state', '=', 'running'), w('lease_until', '<', input.now), w('attempts', '<', w.ref('max_attempts'))]),
          ]),
        )
        .orderBy('run_at')
        .limit(input.limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      attempts: eb('attempts', '+', 1),
      lease_owner: input.owner,
      lease_until: input.leaseUntil,
    }))
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    .returning(['id', 'kind', 'payload', 'attempts', 'max_attempts', 'lease_owner'])
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    payload: r.payload,
    attempt: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner as string,
  }));
}

/** Running jobs whose lease ran out on their last allowed attempt: recorded as failed, with why. */
export async function failAbandoned(db: Executor, kinds: readonly string[], now: Date): Promise<number> {
  if (kinds.length === 0) return 0;
  const result = await db
    .updateTable('jobs')
    .set({
      state: 'failed',
      finished_at: now,
      lease_owner: null,
      lease_until: null,
      last_error: sql<string>`concat('the process running attempt ', attempts, ' stopped before it finished (its lease expired); no attempts left')`,
    })
    .where('kind', 'in', kinds)
    .where('state', '=', 'running')
    .where('lease_until', '<', now)
    .where((w) => w('attempts', '>=', w.ref('max_attempts')))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** False when the lease is no longer this holder's (it expired and another process took the job). */
export async function extendLease(db: Executor, id: string, owner: string, leaseUntil: Date): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ lease_until: leaseUntil })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function completeJob(
  db: Executor,
  id: string,
  owner: string,
  result: Record<string, unknown> | null,
  now: Date,
): Promise<boolean> {
  const updated = await db
    .updateTable('jobs')
    .set({ state: 'done', result: result === null ? null : JSON.stringify(result), finished_at: now, lease_owner: null, lease_until: null, last_error: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Back to the queue for `retryAt`, or failed for good when `retryAt` is null. */
export async function failJob(db: Executor, id: string, owner: string, error: string, now: Date, retryAt: Date | null): Promise<boolean> {
  const updated = await db
    .updateTable('jobs')
    .set(
      retryAt === null
        ? { state: 'failed', last_error: clipError(error), finished_at: now, lease_owner: null, lease_until: null }
        : { state: 'queued', last_error: clipError(error), run_at: retryAt, lease_owner: null, lease_until: null },
    )
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Hands a job back untouched (this process is stopping): the attempt does not count. */
export async function releaseJob(db: Executor, id: string, owner: string, now: Date): Promise<void> {
  await db
    .updateTable('jobs')
    .set((eb) => ({ state: 'queued', attempts: eb('attempts', '-', 1), run_at: now, lease_owner: null, lease_until: null }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .execute();
}

export function toJobRecord(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    guildId: row.guild_id,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    result: row.result,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export async function findJob(db: Executor, id: string): Promise<JobRecord | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toJobRecord(row);
}

/**
 * Takes the next slot of a recurring kind when it is due: a compare-and-set
 * on its row, so exactly one process wins the slot, and the job is enqueued
 * in the same transaction, so a crash cannot take a slot without its job.
 * Returns when the next slot is due, for the caller to wait until then.
 */
export async function takeRecurringSlot(
  db: Kysely<Database>,
  input: { kind: string; intervalMs: number; payload: Record<string, unknown>; now: Date },
): Promise<{ enqueued: string | null; nextRunAt: Date }> {
  const { kind, intervalMs, now } = input;
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('job_schedules')
      .values({ kind, interval_ms: intervalMs, next_run_at: now })
      .onConflict((oc) => oc.column('kind').doUpdateSet({ interval_ms: intervalMs }))
      .execute();
    const next = new Date(now.getTime() + intervalMs);
    const taken = await trx
      .updateTable('job_schedules')
      .set({ next_run_at: next })
      .where('kind', '=', kind)
      .where('next_run_at', '<=', now)
      .returning('kind')
      .executeTakeFirst();
    if (taken === undefined) {
      const row = await trx.selectFrom('job_schedules').select('next_run_at').where('kind', '=', kind).executeTakeFirstOrThrow();
      return { enqueued: null, nextRunAt: row.next_run_at };
    }
    // A run still going when the next slot comes is not doubled: the key holds while it is live.
    const job = await insertJob(trx, { kind, payload: input.payload, dedupeKey: `every:${kind}` }, now);
    await trx.updateTable('job_schedules').set({ last_job_id: job.id }).where('kind', '=', kind).execute();
    return { enqueued: job.id, nextRunAt: next };
  });
}

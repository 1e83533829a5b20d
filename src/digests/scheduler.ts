import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { insertJob } from '../jobs/job-store.ts';
import { scheduleOf, type DigestRow } from './digest-store.ts';
import { nextRunAfter } from './schedule.ts';

/**
 * Turns due digests into jobs. Each due time is taken by a compare-and-set
 * on the digest's `next_run_at`, in the same transaction as its job, so
 * whichever processes run this at once, each due time becomes one job (and
 * its dedupe key `digest:<id>:<due>` and the runs table's unique due time
 * guard it again). After downtime over several due times the digest is
 * taken once: one job whose window runs from the end of the last run to
 * now, and the next due time is the first one after now.
 */

export const DIGEST_JOB_PREFIX = 'digest-run';
export const DIGEST_MAX_ATTEMPTS = 3;
/** Due digests taken per scheduler pass; the rest are taken by the next pass. */
const BATCH = 500;

export interface DigestJobPayload {
  digestId: string;
  dueAt: string;
  windowStart: string;
  windowEnd: string;
  trigger: 'schedule' | 'run-now';
}

/** Discord's shard of a guild: (id >> 22) % count. The run goes to the process connected to that shard. */
export function shardOf(guildId: string, shardCount: number): number {
  if (shardCount <= 1) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export function digestJobKind(guildId: string, shardCount: number): string {
  return `${DIGEST_JOB_PREFIX}:${shardOf(guildId, shardCount)}`;
}

/**
 * Enqueues every digest due at `now`; returns how many jobs this call
 * created. One digest that cannot be scheduled (a time zone the platform no
 * longer knows) is reported to `onError` and left for the next pass; it
 * never holds up the others.
 */
export async function enqueueDueDigests(
  db: Kysely<Database>,
  now: Date,
  shardCount: number,
  onError: (digestId: string, error: unknown) => void = () => undefined,
): Promise<number> {
  const due = await db
    .selectFrom('digests')
    .selectAll()
    .where('paused', '=', false)
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .limit(BATCH)
    .execute();
  let created = 0;
  for (const digest of due) {
    try {
      if (await takeDue(db, digest, now, shardCount)) created += 1;
    } catch (error) {
      onError(digest.id, error);
    }
  }
  return created;
}

async function takeDue(db: Kysely<Database>, digest: DigestRow, now: Date, shardCount: number): Promise<boolean> {
  const next = nextRunAfter(scheduleOf(digest), now);
  return db.transaction().execute(async (trx) => {
    const taken = await trx
      .updateTable('digests')
      .set({ next_run_at: next, window_start: now })
      .where('id', '=', digest.id)
      .where('paused', '=', false)
      .where('next_run_at', '=', digest.next_run_at)
      .returning('id')
      .executeTakeFirst();
    if (taken === undefined) return false; // another process took this due time
    const payload: DigestJobPayload = {
      digestId: digest.id,
      dueAt: digest.next_run_at.toISOString(),
      windowStart: digest.window_start.toISOString(),
      windowEnd: now.toISOString(),
      trigger: 'schedule',
    };
    const job = await insertJob(
      trx,
      { kind: digestJobKind(digest.guild_id, shardCount), guildId: digest.guild_id, payload: { ...payload }, dedupeKey: `digest:${digest.id}:${payload.dueAt}`, maxAttempts: DIGEST_MAX_ATTEMPTS },
      now,
    );
    return job.created;
  });
}

/**
 * `/digest run-now`: a run now, covering the window since the last run; the
 * next scheduled run then starts from here, so no message is covered twice.
 */
export async function enqueueRunNow(db: Kysely<Database>, digest: DigestRow, now: Date, shardCount: number): Promise<{ jobId: string; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('digests').select(['window_start']).where('id', '=', digest.id).forUpdate().executeTakeFirstOrThrow();
    const live = await trx
      .selectFrom('jobs')
      .select('id')
      .where('dedupe_key', '=', `digest:${digest.id}:now`)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (live !== undefined) return { jobId: live.id, created: false };
    await trx.updateTable('digests').set({ window_start: now }).where('id', '=', digest.id).execute();
    const payload: DigestJobPayload = {
      digestId: digest.id,
      dueAt: now.toISOString(),
      windowStart: current.window_start.toISOString(),
      windowEnd: now.toISOString(),
      trigger: 'run-now',
    };
    const job = await insertJob(
      trx,
      { kind: digestJobKind(digest.guild_id, shardCount), guildId: digest.guild_id, payload: { ...payload }, dedupeKey: `digest:${digest.id}:now`, maxAttempts: DIGEST_MAX_ATTEMPTS },
      now,
    );
    return { jobId: job.id, created: job.created };
  });
}

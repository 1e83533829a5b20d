import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobQueue } from './job-queue.ts';
import type { Clock } from '../resilience/clock.ts';

export const JOBS_PRUNE_JOB = 'jobs-prune';
const DAY_MS = 86_400_000;

/** Deletes finished jobs older than `keepMs`, and digest runs older than `runsKeepMs`; returns how many of each. */
export async function pruneFinished(db: Kysely<Database>, now: Date, keepMs: number, runsKeepMs: number): Promise<{ jobs: number; digestRuns: number }> {
  const jobs = await db
    .deleteFrom('jobs')
    .where('state', 'in', ['done', 'failed'])
    .where('finished_at', '<', new Date(now.getTime() - keepMs))
    .executeTakeFirst();
  const runs = await db
    .deleteFrom('digest_runs')
    .where('finished_at', '<', new Date(now.getTime() - runsKeepMs))
    .executeTakeFirst();
  return { jobs: Number(jobs.numDeletedRows), digestRuns: Number(runs.numDeletedRows) };
}

/** Once an hour across the deployment: finished jobs kept 7 days, digest runs 90 days. */
export function registerJobPrune(queue: JobQueue, deps: { db: Kysely<Database>; clock: Clock }): void {
  queue.every(JOBS_PRUNE_JOB, 3_600_000);
  queue.handle(JOBS_PRUNE_JOB, async () => pruneFinished(deps.db, new Date(deps.clock.now()), 7 * DAY_MS, 90 * DAY_MS));
}

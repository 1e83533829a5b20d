/**
 * The recurring retention prune on the deployment's job queue: summaries and
 * their map-reduce partials older than the retention, and admin notices not
 * seen for as long, once every six hours across all processes.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/logger.ts';
import { pruneNotices } from '../notices/notice-store.ts';
import type { Clock } from '../resilience/clock.ts';
import { pruneSummaryHistory } from './history.ts';

export const PRUNE_JOB = 'summaries.prune';
export const PRUNE_INTERVAL_MS = 6 * 3_600_000;

export interface PruneJobDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** SUMMARY_RETENTION_DAYS. */
  retentionDays: number;
}

/** Registers the handler and the schedule; call before `jobs.start()`. */
export function registerSummaryPrune(jobs: JobQueue, deps: PruneJobDeps, intervalMs = PRUNE_INTERVAL_MS): void {
  jobs.handle(PRUNE_JOB, () => runSummaryPrune(deps));
  jobs.every(PRUNE_JOB, intervalMs);
}

export async function runSummaryPrune(deps: PruneJobDeps): Promise<{ summaries: number; chunks: number; notices: number }> {
  const now = new Date(deps.clock.now());
  const pruned = await pruneSummaryHistory(deps.db, now, deps.retentionDays);
  const notices = await pruneNotices(deps.db, now, deps.retentionDays);
  deps.logger.info({ ...pruned, notices, retentionDays: deps.retentionDays }, 'summary history pruned');
  return { ...pruned, notices };
}

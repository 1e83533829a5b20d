import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/logger.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';
import type { Clock } from '../resilience/clock.ts';
import { createDigestRunHandler, type DigestDelivery } from './run-digest.ts';
import { DIGEST_JOB_PREFIX, enqueueDueDigests } from './scheduler.ts';

export const DIGEST_SCHEDULE_JOB = 'digest-schedule';
export const DEFAULT_DIGEST_SCHEDULE_MS = 5_000;

export interface DigestJobsDeps {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  delivery: DigestDelivery;
  /** The shards this process's Discord client holds, and the deployment's count. */
  shards: readonly number[];
  shardCount: number;
  notices?: AdminNotices | undefined;
  /** How often the deployment looks for due digests (once per interval across all processes). */
  scheduleEveryMs?: number;
}

/**
 * Wires digests onto the job queue of a process with a Discord client:
 * the deployment-wide scheduler pass, and the runs of the guilds on this
 * process's shards (kind `digest-run:<shard>`), so a run reads and posts
 * through the gateway connection that holds its guild. Register before the
 * queue starts.
 */
export function registerDigestJobs(queue: JobQueue, deps: DigestJobsDeps): void {
  queue.every(DIGEST_SCHEDULE_JOB, deps.scheduleEveryMs ?? DEFAULT_DIGEST_SCHEDULE_MS);
  queue.handle(DIGEST_SCHEDULE_JOB, async () => {
    const enqueued = await enqueueDueDigests(deps.db, new Date(deps.clock.now()), deps.shardCount, (digestId, error) => {
      deps.logger.warn({ digest: digestId, err: error }, 'could not schedule a due digest; trying again at the next pass');
    });
    return { enqueued };
  });
  const handler = createDigestRunHandler({ db: deps.db, delivery: deps.delivery, clock: deps.clock, logger: deps.logger, notices: deps.notices });
  for (const shard of deps.shards) queue.handle(`${DIGEST_JOB_PREFIX}:${shard}`, handler);
}

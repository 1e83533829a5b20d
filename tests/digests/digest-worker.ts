/**
 * One bot-like process for the multi-process digest tests: the real job
 * queue and digest scheduler and runner on a shared Postgres, delivering
 * through recordingDelivery. Env: DATABASE_URL, DELAY_MS, LEASE_MS, KILL_AFTER_POST.
 * Prints "ready" once its queue started.
 */
import { openDatabase } from '../../src/db/database.ts';
import { registerDigestJobs } from '../../src/digests/digest-jobs.ts';
import { DurableJobQueue } from '../../src/jobs/durable-queue.ts';
import { createLogger } from '../../src/log/logger.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { recordingDelivery } from './recording-delivery.ts';

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', format: 'json' });
const handle = await openDatabase({ url: process.env.DATABASE_URL as string, dataDir: '', poolMax: 8, logger });
const queue = new DurableJobQueue({ db: handle.db, logger, pollMs: 50, leaseMs: Number(process.env.LEASE_MS ?? 1_000), concurrency: 20, retry: { baseMs: 50, maxMs: 200 } });
registerDigestJobs(queue, {
  db: handle.db,
  clock: systemClock,
  logger,
  shards: [0],
  shardCount: 1,
  delivery: recordingDelivery(handle.db, Number(process.env.DELAY_MS ?? 100), process.env.KILL_AFTER_POST === '1'),
  scheduleEveryMs: 1_000,
});
queue.start();
process.stdout.write('ready\n');
const stop = async (): Promise<void> => {
  await queue.stop();
  await handle.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

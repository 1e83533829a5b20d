/**
 * `npm run bench -- digests [--digests 200] [--provider-ms 500] [--processes 2]`
 *
 * Scheduled digests under load, on the real job queue, scheduler and
 * runner: N digests due at the same instant, run by several workers each
 * with its own connection pool (as separate processes would be), with a
 * delivery that takes `provider-ms` (a slow model) and records when it
 * posted. Prints duplicate runs and missed runs (both should be 0), the
 * 95th percentile of lateness (due → posted) and the 99th percentile of one
 * claim statement under four claimers at once.
 *
 * Real Postgres at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres,
 * a throwaway database created and dropped); embedded PGlite with one
 * worker when no server is reachable.
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { registerDigestJobs } from '../src/digests/digest-jobs.ts';
import type { DigestDelivery } from '../src/digests/run-digest.ts';
import { DurableJobQueue } from '../src/jobs/durable-queue.ts';
import { claimJobs, insertJob } from '../src/jobs/job-store.ts';
import { createLogger } from '../src/log/logger.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { quantile, report } from './_report.ts';

const logger = createLogger({ level: 'error', format: 'json' });

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive whole number`);
  return value;
}

interface Store {
  kind: 'postgres' | 'pglite';
  /** One handle per worker (its own pool); PGlite: the one handle. */
  open(): Promise<DatabaseHandle>;
  dispose(): Promise<void>;
}

async function store(): Promise<Store> {
  const server = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
    const name = `recap_bench_digests_${randomBytes(5).toString('hex')}`;
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(server);
    url.pathname = `/${name}`;
    const handles: DatabaseHandle[] = [];
    const open = async (): Promise<DatabaseHandle> => {
      const h = await openDatabase({ url: url.toString(), dataDir: '', poolMax: 10, logger });
      handles.push(h);
      return h;
    };
    await migrateToLatest((await open()).db);
    let handedOut = 0;
    return {
      kind: 'postgres',
      // The migrating handle is the first worker's; each further call is another pool.
      open: async () => (handedOut++ === 0 ? handles[0]! : open()),
      dispose: async () => {
        for (const h of handles) await h.close().catch(() => undefined);
        const cleanup = new pg.Client({ connectionString: server });
        await cleanup.connect();
        await cleanup.query(`drop database if exists ${name} with (force)`);
        await cleanup.end();
      },
    };
  } catch {
    await admin.end().catch(() => undefined);
    process.stderr.write('no Postgres reachable: running on embedded PGlite with one worker\n');
    const handle = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create() });
    await migrateToLatest(handle.db);
    return { kind: 'pglite', open: async () => handle, dispose: () => handle.close() };
  }
}

export async function run(args: string[]): Promise<void> {
  const digests = option(args, 'digests', 200);
  const providerMs = option(args, 'provider-ms', 500);
  const db = await store();
  const workers = db.kind === 'pglite' ? 1 : option(args, 'processes', 2);
  const queues: DurableJobQueue[] = [];
  try {
    const posts = new Map<string, number[]>();
    const lateness: number[] = [];
    const delivery: DigestDelivery = {
      async deliver(run) {
        await new Promise((r) => setTimeout(r, providerMs));
        const at = Date.now();
        posts.set(run.digest.id, [...(posts.get(run.digest.id) ?? []), at]);
        lateness.push(at - run.dueAt.getTime());
        return { outcome: 'posted', messageCount: 1, messageUrl: `bench://${run.runId}` };
      },
    };
    const handles = await Promise.all(Array.from({ length: workers }, () => db.open()));
    const main = handles[0]!.db;
    const due = new Date(Date.now() + 3_000);
    const ids = Array.from({ length: digests }, () => randomBytes(5).toString('hex'));
    await main
      .insertInto('digests')
      .values(ids.map((id, i) => ({ id, guild_id: String(200_000 + i), source_id: '1', source_kind: 'channel' as const, destination_id: '2', cadence: 'daily' as const, at: '09:00', timezone: 'UTC', next_run_at: due, window_start: new Date(due.getTime() - 86_400_000), created_by: 'bench' })))
      .execute();
    for (const handle of handles) {
      const queue = new DurableJobQueue({ db: handle.db, logger, pollMs: 100, concurrency: 25, leaseMs: 10_000 });
      registerDigestJobs(queue, { db: handle.db, clock: systemClock, logger, shards: [0], shardCount: 1, delivery, scheduleEveryMs: 1_000 });
      queue.start();
      queues.push(queue);
    }
    const deadline = Date.now() + 120_000;
    while (posts.size < digests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3_000)); // more scheduler passes: a duplicate would show here
    await Promise.all(queues.map((q) => q.stop()));
    const duplicates = [...posts.values()].reduce((sum, times) => sum + times.length - 1, 0);
    report('digest-duplicate-runs', duplicates, 'runs');
    report('digest-missed-runs', digests - posts.size, 'runs');
    report('digest-lateness-p95', quantile(lateness, 0.95) / 1_000, 's');

    // One claim statement under contention: 2000 queued jobs, four claimers taking 10 at a time.
    const now = new Date();
    for (let i = 0; i < 2_000; i += 1) await insertJob(main, { kind: 'bench-claim', payload: { i } }, now);
    const claimHandles = db.kind === 'pglite' ? [handles[0]!] : await Promise.all(Array.from({ length: 3 }, () => db.open())).then((more) => [...handles.slice(0, 1), ...more]);
    const timings: number[] = [];
    let taken = 0;
    await Promise.all(
      claimHandles.map(async (h, n) => {
        for (;;) {
          const started = performance.now();
          const claimed = await claimJobs(h.db, { kinds: ['bench-claim'], limit: 10, owner: `bench-${n}`, now: new Date(), leaseUntil: new Date(Date.now() + 60_000) });
          timings.push(performance.now() - started);
          taken += claimed.length;
          if (claimed.length === 0) return;
        }
      }),
    );
    if (taken !== 2_000) process.stderr.write(`claimed ${taken} of 2000 jobs\n`);
    report('digest-claim-p99', quantile(timings, 0.99), 'ms');
  } finally {
    await Promise.all(queues.map((q) => q.stop()));
    await db.dispose();
  }
}

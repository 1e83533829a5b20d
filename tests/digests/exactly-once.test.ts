/**
 * Digests run exactly once across real processes on a real Postgres: 50
 * digests due in the same minute, two processes; a process SIGKILLed in the
 * middle of a run, or right after posting; and a restart after three missed due times, which runs
 * each digest once over the whole missed window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { createPostsTable } from './recording-delivery.ts';
import { REPO_ROOT } from '../e2e/harness.ts';
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.ts';

const WORKER = 'tests/digests/digest-worker.ts';
const children: ChildProcess[] = [];

function startWorker(url: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: url, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it was ready`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function insertDigests(db: Kysely<Database>, count: number, nextRunAt: Date, windowStart: Date, cron = '0 * * * *'): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomBytes(5).toString('hex'));
  await db
    .insertInto('digests')
    .values(ids.map((id, i) => ({ id, guild_id: String(100_000 + i), source_id: '1', source_kind: 'channel' as const, destination_id: '2', cadence: 'cron' as const, at: '', timezone: 'Europe/Berlin', cron, next_run_at: nextRunAt, window_start: windowStart, created_by: 'test' })))
    .execute();
  return ids;
}

const postsOf = async (db: Kysely<Database>, ids: string[]) =>
  (await sql<{ digest_id: string; run_id: string; window_start: Date; window_end: Date; pid: number }>`select digest_id, run_id, window_start, window_end, pid from digest_test_posts`.execute(db)).rows.filter((r) => ids.includes(r.digest_id));

const postgresUrl = inject('postgresUrl');
describe.skipIf(postgresUrl === '')(`digests exactly once across processes [postgres${postgresUrl === '' ? `: skipped, ${inject('postgresSkipReason')}` : ''}]`, () => {
  let current: (TestDatabase & { drop(): Promise<void> }) | undefined;
  const database = (): TestDatabase => current!;
  beforeAll(async () => {
    const created = await createPostgresDatabase();
    current = { kind: 'postgres', handle: created.handle, url: created.url, drop: created.drop };
    await createPostsTable(created.handle.db);
  });
  afterAll(async () => {
    await stopAll();
    await current?.drop();
  });
  afterEach(stopAll);

  it('runs 50 digests due in the same minute once each with two processes', async () => {
    const { db } = database().handle;
    const url = database().url!;
    await Promise.all([startWorker(url, { DELAY_MS: '50' }), startWorker(url, { DELAY_MS: '50' })]);
    const due = new Date(Date.now() + 1_500);
    const ids = await insertDigests(db, 50, due, new Date(due.getTime() - 3_600_000));
    await vi.waitFor(async () => expect((await postsOf(db, ids)).length).toBe(50), { timeout: 30_000, interval: 200 });
    await new Promise((r) => setTimeout(r, 1_500)); // several more scheduler passes: nothing more may run
    const posts = await postsOf(db, ids);
    expect(new Set(posts.map((p) => p.digest_id)).size).toBe(50);
    expect(posts).toHaveLength(50);
    const runs = await db.selectFrom('digest_runs').select(['digest_id', 'outcome']).where('digest_id', 'in', ids).execute();
    expect(runs).toHaveLength(50);
    expect(runs.every((r) => r.outcome === 'posted')).toBe(true);
    // Both processes took a share (SKIP LOCKED lets them claim side by side).
    expect(new Set(posts.map((p) => p.pid)).size).toBe(2);
  }, 60_000);

  it('completes a run once when the process running it is killed', async () => {
    const { db } = database().handle;
    const url = database().url!;
    const doomed = await startWorker(url, { DELAY_MS: '4000', LEASE_MS: '1000' });
    const [id] = await insertDigests(db, 1, new Date(Date.now() - 1_000), new Date(Date.now() - 3_601_000));
    await vi.waitFor(async () => expect(await db.selectFrom('digest_runs').select('outcome').where('digest_id', '=', id!).executeTakeFirst()).toEqual({ outcome: 'running' }), { timeout: 15_000, interval: 100 });
    doomed.kill('SIGKILL');
    await new Promise<void>((resolve) => doomed.once('exit', () => resolve()));
    await startWorker(url, { DELAY_MS: '100', LEASE_MS: '1000' });
    await vi.waitFor(async () => expect((await db.selectFrom('digest_runs').select('outcome').where('digest_id', '=', id!).executeTakeFirst())?.outcome).toBe('posted'), { timeout: 20_000, interval: 200 });
    expect(await postsOf(db, [id!])).toHaveLength(1);
    // The second attempt, in the second process, finished the job the killed one held.
    await vi.waitFor(async () => expect(await db.selectFrom('jobs').select(['state', 'attempts']).where('dedupe_key', 'like', `digest:${id!}:%`).execute()).toEqual([{ state: 'done', attempts: 2 }]), { timeout: 5_000 });
  }, 60_000);

  it('does not post twice when the process dies after posting but before recording the run', async () => {
    const { db } = database().handle;
    const url = database().url!;
    const doomed = await startWorker(url, { DELAY_MS: '50', LEASE_MS: '1000', KILL_AFTER_POST: '1' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => doomed.once('exit', (_code, signal) => resolve(signal)));
    const [id] = await insertDigests(db, 1, new Date(Date.now() - 1_000), new Date(Date.now() - 3_601_000));
    expect(await exited).toBe('SIGKILL');
    expect(await postsOf(db, [id!])).toHaveLength(1);
    expect((await db.selectFrom('digest_runs').select('outcome').where('digest_id', '=', id!).executeTakeFirst())?.outcome).toBe('running');
    await startWorker(url, { DELAY_MS: '50', LEASE_MS: '1000' });
    await vi.waitFor(async () => expect((await db.selectFrom('digest_runs').select('outcome').where('digest_id', '=', id!).executeTakeFirst())?.outcome).toBe('posted'), { timeout: 20_000, interval: 200 });
    expect(await postsOf(db, [id!])).toHaveLength(1);
  }, 60_000);

  it('after three missed due times runs each digest once, covering the whole missed window', async () => {
    const { db } = database().handle;
    const url = database().url!;
    // The deployment was down since before 3 hourly due times: the last run's window ended 3.5 hours ago.
    const hour = 3_600_000;
    const lastEnd = new Date(Math.floor(Date.now() / hour) * hour - 3 * hour - hour / 2);
    const missedFirst = new Date(Math.floor(Date.now() / hour) * hour - 2 * hour);
    const ids = await insertDigests(db, 5, missedFirst, lastEnd);
    const started = Date.now();
    await Promise.all([startWorker(url, { DELAY_MS: '50' }), startWorker(url, { DELAY_MS: '50' })]);
    await vi.waitFor(async () => expect((await postsOf(db, ids)).length).toBe(5), { timeout: 30_000, interval: 200 });
    await new Promise((r) => setTimeout(r, 2_000));
    const posts = await postsOf(db, ids);
    expect(posts).toHaveLength(5);
    for (const post of posts) {
      expect(post.window_start.getTime()).toBe(lastEnd.getTime());
      expect(post.window_end.getTime()).toBeGreaterThanOrEqual(started);
    }
    // The next due time is after now (not the missed ones), and the next window starts where the
    // catch-up run's ended: nothing lost, nothing read twice.
    const byId = new Map(posts.map((p) => [p.digest_id, p]));
    const rows = await db.selectFrom('digests').select(['id', 'next_run_at', 'window_start']).where('id', 'in', ids).execute();
    for (const row of rows) {
      expect(row.next_run_at.getTime()).toBeGreaterThan(started);
      expect(row.window_start.getTime()).toBe(byId.get(row.id)!.window_end.getTime());
    }
    expect(await db.selectFrom('digest_runs').select('id').where('digest_id', 'in', ids).execute()).toHaveLength(5);
  }, 60_000);
});

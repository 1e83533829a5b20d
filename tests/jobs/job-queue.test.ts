import { afterEach, expect, it, vi } from 'vitest';
import { DurableJobQueue, type DurableJobQueueOptions } from '../../src/jobs/durable-queue.ts';
import { claimJobs, insertJob } from '../../src/jobs/job-store.ts';
import { pruneFinished } from '../../src/jobs/prune.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';

describeEachDatabase('job queue', (database) => {
  const queues: DurableJobQueue[] = [];
  const queue = (options: Partial<DurableJobQueueOptions> = {}): DurableJobQueue => {
    const q = new DurableJobQueue({ db: database().handle.db, logger: silentLogger, pollMs: 20, retry: { baseMs: 10, maxMs: 20 }, ...options });
    queues.push(q);
    return q;
  };
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop()));
  });

  it('runs an enqueued job once and records its result', async () => {
    const q = queue();
    const seen: unknown[] = [];
    q.handle('greet', async ({ payload, attempt }) => {
      seen.push(payload);
      return { said: `hello ${String(payload.name)}`, attempt };
    });
    q.start();
    const { id, created } = await q.enqueue({ kind: 'greet', payload: { name: 'ada' }, guildId: 'g1' });
    expect(created).toBe(true);
    await vi.waitFor(async () => expect((await q.get(id))?.state).toBe('done'), { timeout: 5_000 });
    const record = await q.get(id);
    expect(record).toMatchObject({ kind: 'greet', guildId: 'g1', attempts: 1, lastError: null, result: { said: 'hello ada', attempt: 1 } });
    expect(record?.finishedAt).toBeInstanceOf(Date);
    expect(seen).toEqual([{ name: 'ada' }]);
  });

  it('returns the live job for a dedupe key, and takes the key again once it finished', async () => {
    const q = queue();
    const first = await q.enqueue({ kind: 'dedupe', payload: { n: 1 }, dedupeKey: 'k:1' });
    const second = await q.enqueue({ kind: 'dedupe', payload: { n: 2 }, dedupeKey: 'k:1' });
    expect(second).toEqual({ id: first.id, created: false });
    const ran: unknown[] = [];
    q.handle('dedupe', async ({ payload }) => {
      ran.push(payload.n);
    });
    q.start();
    await vi.waitFor(async () => expect((await q.get(first.id))?.state).toBe('done'), { timeout: 5_000 });
    expect(ran).toEqual([1]);
    const third = await q.enqueue({ kind: 'dedupe', payload: { n: 3 }, dedupeKey: 'k:1' });
    expect(third.created).toBe(true);
    expect(third.id).not.toBe(first.id);
  });

  it('retries a failing job a bounded number of times, then records it failed with the reason', async () => {
    const q = queue();
    let calls = 0;
    q.handle('flaky', async () => {
      calls += 1;
      throw new Error(`provider said no (${calls})`);
    });
    q.start();
    const { id } = await q.enqueue({ kind: 'flaky', payload: {}, maxAttempts: 3 });
    await vi.waitFor(async () => expect((await q.get(id))?.state).toBe('failed'), { timeout: 5_000 });
    const record = await q.get(id);
    expect(calls).toBe(3);
    expect(record?.attempts).toBe(3);
    expect(record?.lastError).toBe('attempt 3 of 3: provider said no (3)');
  });

  it('refuses a maxAttempts below one with a clear error', async () => {
    await expect(queue().enqueue({ kind: 'x', payload: {}, maxAttempts: 0 })).rejects.toThrow('maxAttempts must be a whole number of at least 1 (got 0)');
  });

  it('claims again a job whose holder stopped renewing its lease, and fails it when no attempt is left', async () => {
    const { db } = database().handle;
    const q = queue({ leaseMs: 300 });
    const again = await q.enqueue({ kind: 'orphan', payload: { n: 1 }, maxAttempts: 2 });
    const last = await q.enqueue({ kind: 'orphan-last', payload: {}, maxAttempts: 1 });
    // A process that claimed both and then died: it never renews and never records an outcome.
    const dead = await claimJobs(db, { kinds: ['orphan', 'orphan-last'], limit: 5, owner: 'dead-process#1', now: new Date(), leaseUntil: new Date(Date.now() + 200) });
    expect(dead.map((j) => j.id).sort()).toEqual([again.id, last.id].sort());
    const ran: number[] = [];
    q.handle('orphan', async ({ attempt }) => {
      ran.push(attempt);
      return { attempt };
    });
    q.handle('orphan-last', async () => ({ never: true }));
    q.start();
    await vi.waitFor(async () => expect((await q.get(again.id))?.state).toBe('done'), { timeout: 5_000 });
    expect(ran).toEqual([2]);
    await vi.waitFor(async () => expect((await q.get(last.id))?.state).toBe('failed'), { timeout: 5_000 });
    expect((await q.get(last.id))?.lastError).toBe('the process running attempt 1 stopped before it finished (its lease expired); no attempts left');
  });

  it('runs each of many jobs exactly once with two queues claiming at the same time', async () => {
    const counts = new Map<number, number>();
    const make = (): DurableJobQueue => {
      const q = queue({ concurrency: 5 });
      q.handle('many', async ({ payload }) => {
        const n = payload.n as number;
        counts.set(n, (counts.get(n) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2));
      });
      return q;
    };
    const a = make();
    const b = make();
    const ids = await Promise.all(Array.from({ length: 60 }, (_, n) => a.enqueue({ kind: 'many', payload: { n } })));
    a.start();
    b.start();
    await vi.waitFor(async () => {
      const rows = await database().handle.db.selectFrom('jobs').select('state').where('kind', '=', 'many').where('state', '=', 'done').execute();
      expect(rows.length).toBe(ids.length);
    }, { timeout: 15_000 });
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('runs a recurring job once per interval however many processes register it', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
    let runs = 0;
    const make = (): DurableJobQueue => {
      const q = queue({ clock });
      q.every('prune', 60_000, { days: 90 });
      q.handle('prune', async ({ payload }) => {
        expect(payload).toEqual({ days: 90 });
        runs += 1;
      });
      return q;
    };
    const a = make();
    const b = make();
    a.start();
    b.start();
    await vi.waitFor(() => expect(runs).toBe(1), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 150)); // several polls of both, inside the same interval
    expect(runs).toBe(1);
    clock.advance(60_000);
    a.poke();
    b.poke();
    await vi.waitFor(() => expect(runs).toBe(2), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 150));
    expect(runs).toBe(2);
  });

  it('hands a running job back, its attempt uncounted, when stopped', async () => {
    const q = queue({ stopGraceMs: 50 });
    let started = false;
    q.handle('slow', ({ signal }) => {
      started = true;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    });
    q.start();
    const { id } = await q.enqueue({ kind: 'slow', payload: {} });
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 5_000 });
    await q.stop();
    expect(await q.get(id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('prunes finished jobs past the retention, and keeps recent and unfinished ones', async () => {
    const { db } = database().handle;
    const now = new Date('2026-12-06T12:00:00Z');
    const old = await insertJob(db, { kind: 'prune-me', payload: {} }, now);
    const recent = await insertJob(db, { kind: 'prune-me', payload: {} }, now);
    const unfinished = await insertJob(db, { kind: 'prune-me', payload: {} }, now);
    await db.updateTable('jobs').set({ state: 'done', finished_at: new Date(now.getTime() - 8 * 86_400_000) }).where('id', '=', old.id).execute();
    await db.updateTable('jobs').set({ state: 'failed', finished_at: new Date(now.getTime() - 86_400_000) }).where('id', '=', recent.id).execute();
    const pruned = await pruneFinished(db, now, 7 * 86_400_000, 90 * 86_400_000);
    expect(pruned.jobs).toBe(1);
    const left = await db.selectFrom('jobs').select('id').where('kind', '=', 'prune-me').execute();
    expect(left.map((r) => r.id).sort()).toEqual([recent.id, unfinished.id].sort());
  });
});

/**
 * The digest scheduler and runner on one process (PGlite runs the same code
 * as Postgres): what a run records, and the admin notices it posts when a
 * digest's channel is gone (paused), a run is refused (not posted), or runs
 * fail twice in a row. The delivery here reports an outcome; the Discord
 * delivery that decides it is tested end to end in tests/e2e/digest.test.ts.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createDigest, digestById, lastRuns } from '../../src/digests/digest-store.ts';
import { registerDigestJobs } from '../../src/digests/digest-jobs.ts';
import type { DeliveryOutcome, DigestRun } from '../../src/digests/run-digest.ts';
import { DurableJobQueue } from '../../src/jobs/durable-queue.ts';
import type { AdminNotice } from '../../src/notices/admin-notice.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { systemClock } from '../../src/resilience/clock.ts';

describeEachDatabase('digest runner', (database) => {
  let queue: DurableJobQueue | undefined;
  afterEach(async () => {
    await queue?.stop();
  });

  function start(outcome: (run: DigestRun) => Promise<DeliveryOutcome>): { notices: AdminNotice[]; runs: DigestRun[] } {
    const notices: AdminNotice[] = [];
    const runs: DigestRun[] = [];
    queue = new DurableJobQueue({ db: database().handle.db, logger: silentLogger, pollMs: 20, retry: { baseMs: 10, maxMs: 20 } });
    registerDigestJobs(queue, {
      db: database().handle.db,
      clock: systemClock,
      logger: silentLogger,
      shards: [0],
      shardCount: 1,
      scheduleEveryMs: 1_000,
      notices: { post: async (n) => void notices.push(n) },
      delivery: {
        deliver: (run) => {
          runs.push(run);
          return outcome(run);
        },
      },
    });
    queue.start();
    return { notices, runs };
  }

  const newDigest = (guildId: string) => {
    const now = new Date();
    return createDigest(database().handle.db, { guildId, sourceId: '11', sourceKind: 'channel', destinationId: '22', cadence: 'daily', at: '09:00', timezone: 'UTC', skipIfQuiet: false, createdBy: 'u', nextRunAt: new Date(now.getTime() - 1_000), windowStart: new Date(now.getTime() - 86_401_000) }, now);
  };

  it('runs a due digest once, records the run and schedules the next', async () => {
    const digest = await newDigest('g-posted');
    const { runs } = start(async () => ({ outcome: 'posted', messageCount: 7, messageUrl: 'https://discord.com/channels/1/22/33' }));
    await vi.waitFor(async () => expect((await lastRuns(database().handle.db, digest.id, 5))[0]?.outcome).toBe('posted'), { timeout: 10_000 });
    const [run] = await lastRuns(database().handle.db, digest.id, 5);
    expect(run).toMatchObject({ trigger: 'schedule', message_count: 7, message_url: 'https://discord.com/channels/1/22/33' });
    expect(run!.window_start.getTime()).toBe(digest.window_start.getTime());
    expect(runs.filter((r) => r.digest.id === digest.id)).toHaveLength(1);
    const after = await digestById(database().handle.db, digest.id);
    expect(after!.next_run_at.getTime()).toBeGreaterThan(Date.now());
    expect(after!.window_start.getTime()).toBe(run!.window_end.getTime());
  });

  it('pauses a digest whose channel is gone, with a digest-paused notice', async () => {
    const digest = await newDigest('g-gone');
    const { notices } = start(async () => ({ outcome: 'gone', reason: 'The destination channel (22) no longer exists or I can\'t see it.' }));
    await vi.waitFor(async () => expect((await digestById(database().handle.db, digest.id))?.paused).toBe(true), { timeout: 10_000 });
    expect((await digestById(database().handle.db, digest.id))?.paused_reason).toBe("The destination channel (22) no longer exists or I can't see it.");
    await vi.waitFor(() => expect(notices.map((n) => n.kind)).toEqual(['digest-paused']), { timeout: 5_000 });
    expect(notices[0]).toMatchObject({ guildId: 'g-gone', cause: `digest:${digest.id}:digest-paused` });
  });

  it('records a run refused for visibility and posts a digest-not-posted notice', async () => {
    const digest = await newDigest('g-refused');
    const reason = "I won't post a summary of <#11> in <#22>: <@5> can see <#22> but can't see <#11>.";
    const { notices } = start(async () => ({ outcome: 'not-posted', reason }));
    await vi.waitFor(async () => expect((await lastRuns(database().handle.db, digest.id, 5))[0]?.outcome).toBe('not-posted'), { timeout: 10_000 });
    expect((await lastRuns(database().handle.db, digest.id, 5))[0]?.detail).toBe(reason);
    await vi.waitFor(() => expect(notices).toHaveLength(1), { timeout: 5_000 });
    expect(notices[0]).toMatchObject({ kind: 'digest-not-posted', lines: [reason] });
  });

  it('records a run failed after its bounded attempts, and notices when two runs in a row failed', async () => {
    const digest = await newDigest('g-failing');
    let calls = 0;
    const { notices } = start(async () => {
      calls += 1;
      throw new Error('the model provider is down');
    });
    await vi.waitFor(async () => expect((await lastRuns(database().handle.db, digest.id, 5))[0]?.outcome).toBe('failed'), { timeout: 10_000 });
    expect(calls).toBe(3);
    expect(notices).toEqual([]);
    // The next due time fails too: two in a row.
    await database().handle.db.updateTable('digests').set({ next_run_at: new Date(Date.now() - 1) }).where('id', '=', digest.id).execute();
    await vi.waitFor(async () => expect((await lastRuns(database().handle.db, digest.id, 5)).filter((r) => r.outcome === 'failed')).toHaveLength(2), { timeout: 15_000 });
    await vi.waitFor(() => expect(notices.map((n) => n.kind)).toEqual(['digest-failing']), { timeout: 5_000 });
    expect(notices[0]!.title).toBe(`Digest ${digest.id} failed 2 times in a row`);
    expect((await lastRuns(database().handle.db, digest.id, 1))[0]!.detail).toBe('the model provider is down');
  });
});

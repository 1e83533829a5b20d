import { Registry } from 'prom-client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { statusEmbed } from '../../src/discord/prompt-config/status-report.ts';
import type { PromptStatus } from '../../src/prompts/engine.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.ts';
import { DeliveryStore } from '../../src/webhooks/delivery-store.ts';
import { DeliverySweeper } from '../../src/webhooks/delivery-sweeper.ts';
import { createWebhookMetrics } from '../../src/webhooks/metrics.ts';
import type { DeliveryPayload } from '../../src/webhooks/payloads.ts';
import type { DeliveryProcessor } from '../../src/webhooks/processor.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { newDeliveryId } from '../webhooks/helpers.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const LEASE = 60_000;
const MAX = 3;

function push(repo: string): DeliveryPayload {
  const [owner, name] = repo.split('/') as [string, string];
  return { kind: 'push', owner, repo: name, ref: 'refs/heads/main', after: 'a'.repeat(40), deleted: false };
}

describeEachDatabase('webhook delivery attempts', (database) => {
  let clock: ManualClock;
  let store: DeliveryStore;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);

  beforeEach(() => {
    clock = new ManualClock(T0);
    store = DeliveryStore.over(database().handle.db);
    rejections.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  async function queued(repo: string, attempts = 0): Promise<string> {
    const id = newDeliveryId();
    await store.insert({
      deliveryId: id,
      event: 'push',
      action: null,
      repo,
      status: 'queued',
      payload: push(repo),
      result: null,
      receivedAt: new Date(clock.now()),
      nextAttemptAt: new Date(clock.now()),
      claimedUntil: null,
      attempts,
    });
    return id;
  }

  function parts(process: DeliveryProcessor) {
    const queue = new DeliveryQueue({
      store,
      process,
      clock,
      logger: silentLogger,
      metrics: createWebhookMetrics(new Registry()),
      concurrency: 2,
      maxPending: 10,
      retry: { maxAttempts: MAX, baseMs: 1_000, maxMs: 5_000 },
    });
    const sweeper = new DeliverySweeper({ store, queue, clock, logger: silentLogger, leaseMs: LEASE, batch: 50, maxAttempts: MAX, retentionMs: 7 * 86_400_000 });
    return { queue, sweeper };
  }

  it('a claim counts the attempt in the same statement, before any processing', async () => {
    const id = await queued('acme/claim');
    const claimed = await store.claimDue(new Date(clock.now()), new Date(clock.now() + LEASE), 50, MAX);
    const mine = claimed.find((d) => d.deliveryId === id);
    expect(mine?.attempts).toBe(1);
    expect((await store.get(id))?.attempts).toBe(1);
    // Held: a second sweeper does not take it until the lease ends.
    expect((await store.claimDue(new Date(clock.now()), new Date(clock.now() + LEASE), 50, MAX)).map((d) => d.deliveryId)).not.toContain(id);
  });

  it('a delivery whose processing never finishes (the process died) is given up after maxAttempts, with its reason', async () => {
    const id = await queued('acme/poison');
    // Each "crash": the claim counts the attempt, nothing ever completes it, the lease runs out.
    for (let attempt = 1; attempt <= MAX; attempt += 1) {
      const claimed = await store.claimDue(new Date(clock.now()), new Date(clock.now() + LEASE), 50, MAX);
      expect(claimed.find((d) => d.deliveryId === id)?.attempts).toBe(attempt);
      clock.advance(LEASE + 1);
    }
    expect((await store.claimDue(new Date(clock.now()), new Date(clock.now() + LEASE), 50, MAX)).map((d) => d.deliveryId)).not.toContain(id);
    const gaveUp = await store.giveUpUnfinished(new Date(clock.now()), MAX, 50);
    expect(gaveUp.map((d) => d.deliveryId)).toContain(id);
    const row = await store.get(id);
    expect(row).toMatchObject({ status: 'failed', attempts: MAX, nextAttemptAt: null });
    expect(row?.error).toBe(`gave up after ${MAX} attempts: the process stopped while processing it each time`);

    const failed = await store.failedFor('ACME/Poison', 5);
    expect(failed).toEqual([expect.objectContaining({ deliveryId: id, event: 'push', attempts: MAX, error: row?.error })]);
    // Older than the window /prompt-config status looks at: not shown.
    expect(await store.failedFor('acme/poison', 5, new Date(clock.now()))).toEqual([]);
  });

  it('the sweeper gives up exhausted deliveries instead of handing them to the queue again', async () => {
    let calls = 0;
    const { queue, sweeper } = parts(async () => {
      calls += 1;
      return 'processed';
    });
    const id = await queued('acme/exhausted', MAX);
    await sweeper.sweepNow();
    await queue.drain();
    expect(calls).toBe(0);
    expect(await store.get(id)).toMatchObject({ status: 'failed', attempts: MAX });
  });

  it('a processor that rejects or throws synchronously fails the delivery and nothing escapes to the process', async () => {
    const rejecting = await queued('acme/rejects');
    const throwing = await queued('acme/throws');
    const { queue, sweeper } = parts(((payload) => {
      if (payload.repo === 'throws') throw new Error('synchronous bug in processing');
      return Promise.reject(new Error('rejected processing'));
    }) as DeliveryProcessor);
    await sweeper.sweepNow();
    await queue.drain();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.get(rejecting)).toMatchObject({ status: 'failed', attempts: 1, error: 'rejected processing' });
    expect(await store.get(throwing)).toMatchObject({ status: 'failed', attempts: 1, error: 'synchronous bug in processing' });
    // The last attempt marks it failed for good, with the reason.
    for (let round = 2; round <= MAX; round += 1) {
      clock.advance(10 * 60_000);
      await sweeper.sweepNow();
      await queue.drain();
    }
    expect(await store.get(rejecting)).toMatchObject({ status: 'failed', attempts: MAX, nextAttemptAt: null, error: 'rejected processing' });
    expect(rejections).toEqual([]);
  });

  it('/prompt-config status shows the failed deliveries of the repository with their reason', async () => {
    const id = await queued('acme/shown', MAX);
    await store.giveUpUnfinished(new Date(clock.now()), MAX, 50);
    const failed = await store.failedFor('acme/shown', 3);
    const status = {
      config: { owner: 'acme', repo: 'shown', branch: 'main', repoUrl: 'https://github.com/acme/shown', lastSyncAt: null, lastPushAt: null, repoEvent: null, lastSyncErrors: [] },
      level: 'custom',
      commit: null,
      checkedAt: null,
      invalidHead: null,
      lastError: null,
      denied: null,
    } as unknown as PromptStatus;
    const embed = statusEmbed(status, undefined, undefined, failed);
    const field = embed.fields?.find((f) => f.name === 'Webhook deliveries that failed');
    expect(field?.value).toContain(id);
    expect(field?.value).toContain('the process stopped while processing it each time');
  });
});

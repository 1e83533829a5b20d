import { retryOnConnectionLoss } from '../db/connection-errors.ts';
import { describeDatabaseError } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { CorrelationScope } from '../process/correlation.ts';
import { jitteredBackoff } from '../resilience/backoff.ts';
import type { Clock } from '../resilience/clock.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { WebhookMetrics } from './metrics.ts';
import type { DeliveryPayload } from './payloads.ts';
import type { DeliveryProcessor } from './processor.ts';

export interface QueuedDelivery {
  deliveryId: string;
  event: string;
  payload: DeliveryPayload;
  /** The number of this attempt, already counted in the table when it was claimed. */
  attempt: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export interface DeliveryQueueDeps {
  store: DeliveryStore;
  process: DeliveryProcessor;
  clock: Clock;
  logger: Logger;
  metrics: WebhookMetrics;
  concurrency: number;
  /** Past this many waiting, deliveries stay in the table for the sweeper instead of memory. */
  maxPending: number;
  retry: RetryPolicy;
  /** Processing runs with the delivery id as its correlation id. */
  correlation?: CorrelationScope;
}

/** A restart of the database server takes a few seconds: outlast it before leaving the row to the sweeper. */
const BOOKKEEPING_RETRY_MS = [250, 1_000, 3_000];

/**
 * Processes accepted deliveries in this process, a few at a time, in
 * arrival order. The table is the source of truth: whatever this queue
 * drops (a full queue, a crash, a failure) is still there for the sweeper.
 */
export class DeliveryQueue {
  private readonly pending: QueuedDelivery[] = [];
  private readonly queuedIds = new Set<string>();
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly deps: DeliveryQueueDeps) {}

  /** Room for this many more. */
  get capacity(): number {
    return this.closed ? 0 : Math.max(0, this.deps.maxPending - this.pending.length);
  }

  /** False when it was not taken (full, closed, or already queued here). */
  offer(item: QueuedDelivery): boolean {
    if (this.capacity === 0 || this.queuedIds.has(item.deliveryId)) return false;
    this.pending.push(item);
    this.queuedIds.add(item.deliveryId);
    this.pump();
    return true;
  }

  /** Resolves when nothing is waiting or running (tests, benchmarks, shutdown). */
  drain(): Promise<void> {
    if (this.running === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work and waits for what is running; what waits stays queued in the table. */
  async close(): Promise<void> {
    this.closed = true;
    for (const item of this.pending.splice(0)) this.queuedIds.delete(item.deliveryId);
    await this.drain();
  }

  private pump(): void {
    while (this.running < this.deps.concurrency && this.pending.length > 0) {
      const item = this.pending.shift() as QueuedDelivery;
      this.running += 1;
      this.run(item)
        .catch((error: unknown) => {
          // run() catches processing errors itself; this is the last guard so nothing escapes to the process.
          this.deps.logger.error({ delivery: item.deliveryId, err: error }, 'webhook delivery bookkeeping failed; the sweeper will take it again');
        })
        .finally(() => {
          this.running -= 1;
          this.queuedIds.delete(item.deliveryId);
          this.pump();
          if (this.running === 0 && this.pending.length === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }

  private async run(item: QueuedDelivery): Promise<void> {
    const { store, clock, logger, metrics, retry } = this.deps;
    const attempts = item.attempt;
    try {
      const work = (): Promise<string> => this.deps.process(item.payload);
      const result = await (this.deps.correlation?.run(item.deliveryId, work) ?? work());
      // Completing twice writes the same values: safe to repeat after a lost connection.
      await retryOnConnectionLoss(() => store.complete(item.deliveryId, attempts, result, new Date(clock.now())), { delaysMs: BOOKKEEPING_RETRY_MS });
      metrics.processed(item.event, 'done');
      logger.info({ delivery: item.deliveryId, event: item.event, attempts, result }, 'webhook delivery processed');
      return;
    } catch (error) {
      const reason = describeDatabaseError(error);
      const gaveUp = attempts >= retry.maxAttempts;
      const now = clock.now();
      const next = gaveUp ? null : new Date(now + Math.max(1_000, jitteredBackoff(attempts, retry.baseMs, retry.maxMs)));
      metrics.processed(item.event, gaveUp ? 'gave_up' : 'retry');
      logger.warn(
        { delivery: item.deliveryId, event: item.event, attempts, reason, retryAt: next?.toISOString() },
        gaveUp ? 'webhook delivery failed; giving up' : 'webhook delivery failed; it will be retried',
      );
      // When the database itself is down this fails too; the row stays as it
      // was and the sweeper takes it again once its claim runs out.
      await retryOnConnectionLoss(() => store.fail(item.deliveryId, attempts, reason, new Date(now), next), { delaysMs: BOOKKEEPING_RETRY_MS }).catch((e: unknown) => {
        logger.warn({ delivery: item.deliveryId, reason: describeDatabaseError(e) }, 'could not record the failed webhook delivery');
      });
    }
  }
}

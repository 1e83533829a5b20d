import { describeDatabaseError } from '../db/database.ts';
import { retryOnConnectionLoss } from '../db/connection-errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { DeliveryQueue } from './delivery-queue.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { parseStoredPayload } from './payloads.ts';

export interface DeliverySweeperDeps {
  store: DeliveryStore;
  queue: DeliveryQueue;
  clock: Clock;
  logger: Logger;
  /** How long a process holds a delivery it took; a crash frees it after this. */
  leaseMs: number;
  batch: number;
  /** Deliveries with this many attempts counted are not taken again. */
  maxAttempts: number;
  /** Finished deliveries are kept this long (so replays are still recognized). */
  retentionMs: number;
}

/**
 * Hands due deliveries from the table to the queue: retries after a
 * failure, and deliveries left unfinished by a crash or a full queue (in
 * this process or another one).
 */
export class DeliverySweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(private readonly deps: DeliverySweeperDeps) {}

  /** Sweeps now (start-up) and then every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    void this.sweepNow();
    this.timer = setInterval(() => void this.sweepNow(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Returns how many deliveries were handed to the queue; never throws. */
  sweepNow(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    const { store, queue, clock, logger } = this.deps;
    try {
      const now = clock.now();
      const { maxAttempts, batch } = this.deps;
      const gaveUp = await retryOnConnectionLoss(() => store.giveUpUnfinished(new Date(now), maxAttempts, batch));
      for (const row of gaveUp) {
        logger.error(
          { delivery: row.deliveryId, event: row.event, repo: row.repo, attempts: row.attempts, reason: row.error },
          'webhook delivery failed; giving up: the process stopped during each attempt',
        );
      }
      // Repeating a claim after a lost connection at worst counts one attempt that never ran.
      const due = await retryOnConnectionLoss(() => store.claimDue(new Date(now), new Date(now + this.deps.leaseMs), Math.min(batch, queue.capacity), maxAttempts));
      let handed = 0;
      for (const row of due) {
        const payload = parseStoredPayload(row.payload);
        if (!payload.ok) {
          await store.fail(row.deliveryId, row.attempts, payload.reason, new Date(now), null);
          continue;
        }
        if (queue.offer({ deliveryId: row.deliveryId, event: row.event, payload: payload.value, attempt: row.attempts })) handed += 1;
      }
      await store.prune(new Date(now - this.deps.retentionMs));
      return handed;
    } catch (error) {
      logger.warn({ reason: describeDatabaseError(error) }, 'webhook delivery sweep failed; will try again');
      return 0;
    }
  }
}

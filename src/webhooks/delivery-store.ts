import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DeliveryStatus, WebhookDeliveriesTable } from './tables.ts';

export interface NewDelivery {
  deliveryId: string;
  event: string;
  action: string | null;
  repo: string | null;
  status: DeliveryStatus;
  payload: unknown;
  result: string | null;
  receivedAt: Date;
  /** Queued only: when the sweeper may take it (now), and until when this process holds it. */
  nextAttemptAt: Date | null;
  claimedUntil: Date | null;
  /** The per-config hook that verified it; null or absent: the operator's secret. */
  hookId?: string | null;
  /**
   * Attempts already counted: 1 when this process holds it to process it at
   * once (the attempt counts before it runs, so a crash during it counts too).
   */
  attempts?: number;
}

export interface StoredDelivery {
  deliveryId: string;
  event: string;
  action: string | null;
  repo: string | null;
  status: DeliveryStatus;
  attempts: number;
  payload: unknown;
  result: string | null;
  error: string | null;
  receivedAt: Date;
  processedAt: Date | null;
  nextAttemptAt: Date | null;
}

/** A delivery that was given up: what `/prompt-config status` shows. */
export interface FailedDelivery {
  deliveryId: string;
  event: string;
  error: string | null;
  attempts: number;
  at: Date;
}

/** Deliveries in the database: the at-most-once record and the retry queue that survives restarts. */
export class DeliveryStore {
  static over(db: Kysely<Database>): DeliveryStore {
    return new DeliveryStore(db);
  }

  private constructor(private readonly db: Kysely<Database>) {}

  /** False when the delivery id was seen before (a redelivery or a replay). */
  async insert(delivery: NewDelivery): Promise<boolean> {
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: delivery.deliveryId,
        event: delivery.event,
        action: delivery.action,
        repo: delivery.repo,
        status: delivery.status,
        attempts: delivery.attempts ?? 0,
        payload: JSON.stringify(delivery.payload),
        result: delivery.result,
        received_at: delivery.receivedAt,
        processed_at: delivery.status === 'done' ? delivery.receivedAt : null,
        next_attempt_at: delivery.nextAttemptAt,
        claimed_until: delivery.claimedUntil,
        hook_id: delivery.hookId ?? null,
      })
      .onConflict((oc) => oc.column('delivery_id').doNothing())
      .returning('delivery_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async complete(deliveryId: string, attempts: number, result: string, at: Date): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'done', attempts, result, error: null, processed_at: at, next_attempt_at: null, claimed_until: null })
      .where('delivery_id', '=', deliveryId)
      .execute();
  }

  /** `nextAttemptAt` null: given up; the row stays `failed` for people to see. */
  async fail(deliveryId: string, attempts: number, error: string, at: Date, nextAttemptAt: Date | null): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', attempts, error: error.slice(0, 1000), processed_at: at, next_attempt_at: nextAttemptAt, claimed_until: null })
      .where('delivery_id', '=', deliveryId)
      .execute();
  }

  /**
   * Takes up to `limit` unfinished deliveries that are due and not held by a
   * live process, holding them until `claimUntil`, and counts the attempt in
   * the same statement: a delivery whose processing kills the process has
   * its attempts counted all the same, so `maxAttempts` ends it. SKIP LOCKED
   * lets several processes sweep at once without taking the same row.
   */
  async claimDue(now: Date, claimUntil: Date, limit: number, maxAttempts: number): Promise<StoredDelivery[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ claimed_until: claimUntil, attempts: eb('attempts', '+', 1) }))
      .where('delivery_id', 'in', this.dueUnheld(now, '<', maxAttempts, limit))
      .returningAll()
      .execute();
    return rows.map(toStored);
  }

  /**
   * Ends deliveries whose every attempt was counted but whose last one never
   * finished (the process stopped while processing them: a crash, a kill):
   * they become `failed` with the reason, for `/prompt-config status`.
   */
  async giveUpUnfinished(now: Date, maxAttempts: number, limit: number): Promise<StoredDelivery[]> {
    const reason = `gave up after ${maxAttempts} attempts: the process stopped while processing it each time`;
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: 'failed' as const,
        error: sql<string>`left(${reason} || coalesce('; earlier: ' || ${eb.ref('error')}, ''), 1000)`,
        processed_at: now,
        next_attempt_at: null,
        claimed_until: null,
      }))
      .where('delivery_id', 'in', this.dueUnheld(now, '>=', maxAttempts, limit))
      .returningAll()
      .execute();
    return rows.map(toStored);
  }

  /**
   * Unfinished deliveries that are due and not held by a live process, with
   * fewer (`<`) or at least (`>=`) `maxAttempts` counted. SKIP LOCKED lets
   * several processes sweep at once without taking the same row.
   */
  private dueUnheld(now: Date, attempts: '<' | '>=', maxAttempts: number, limit: number) {
    return this.db
      .selectFrom('webhook_deliveries')
      .select('delivery_id')
      .where('status', 'in', ['queued', 'failed'])
      .where('next_attempt_at', '<=', now)
      .where('attempts', attempts, maxAttempts)
      .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked();
  }

  /** Deliveries for `repo` received since `since` that were given up, newest first (`/prompt-config status`). */
  async failedFor(repo: string, limit: number, since: Date = new Date(0)): Promise<FailedDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select(['delivery_id', 'event', 'error', 'attempts', 'processed_at', 'received_at'])
      .where(sql`lower(repo)`, '=', repo.toLowerCase())
      .where('status', '=', 'failed')
      .where('next_attempt_at', 'is', null)
      .where('received_at', '>=', since)
      .orderBy('received_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      deliveryId: r.delivery_id,
      event: r.event,
      error: r.error,
      attempts: r.attempts,
      at: new Date(r.processed_at ?? r.received_at),
    }));
  }

  async get(deliveryId: string): Promise<StoredDelivery | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirst();
    return row === undefined ? undefined : toStored(row);
  }

  /** Counts by status (operators, tests). */
  async countByStatus(): Promise<Record<DeliveryStatus, number>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select(['status', sql<string>`count(*)`.as('n')])
      .groupBy('status')
      .execute();
    const counts: Record<DeliveryStatus, number> = { queued: 0, done: 0, failed: 0 };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  /** Forgets finished deliveries received before `before` (GitHub redelivers only recent ones). */
  async prune(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('status', '=', 'done')
      .where('received_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toStored(row: Selectable<WebhookDeliveriesTable>): StoredDelivery {
  const { event, action, repo, status, attempts, payload, result, error } = row;
  return {
    deliveryId: row.delivery_id,
    event,
    action,
    repo,
    status,
    attempts,
    payload,
    result,
    error,
    receivedAt: new Date(row.received_at),
    processedAt: row.processed_at === null ? null : new Date(row.processed_at),
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(row.next_attempt_at),
  };
}

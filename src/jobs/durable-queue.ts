import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { describeDatabaseError } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../log/logger.ts';
import { jitteredBackoff } from '../resilience/backoff.ts';
import { systemClock, type Clock } from '../resilience/clock.ts';
import type { JobHandler, JobQueue, JobRecord, NewJob } from './job-queue.ts';
import {
  claimJobs,
  completeJob,
  extendLease,
  failAbandoned,
  failJob,
  findJob,
  insertJob,
  releaseJob,
  takeRecurringSlot,
  type ClaimedJob,
} from './job-store.ts';

export interface DurableJobQueueOptions {
  db: Kysely<Database>;
  logger: Logger;
  clock?: Clock;
  /** Names this process in lease owners (for people reading the table); unique per instance by default. */
  workerId?: string;
  /** Jobs this process runs at once. */
  concurrency?: number;
  /** How often it looks for due work when it has heard of none. */
  pollMs?: number;
  /** A running job's holder renews its lease every third of this; a killed holder's job is claimable after it. */
  leaseMs?: number;
  /** Past this, a run's signal aborts and the attempt counts as failed. */
  runTimeoutMs?: number;
  /** Backoff before a failed attempt is retried. */
  retry?: { baseMs: number; maxMs: number };
  /** How long stop() waits for running jobs before aborting them and handing them back. */
  stopGraceMs?: number;
}

interface Recurring {
  kind: string;
  intervalMs: number;
  payload: Record<string, unknown>;
  /** When this process should next ask for the slot. */
  nextCheck: number;
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The `JobQueue` over the `jobs` table: a claimed-lease design. A process
 * claims due rows with `FOR UPDATE SKIP LOCKED`, holds each under a lease it
 * renews while the handler runs, and records the outcome only while it still
 * holds the lease. A process that dies stops renewing; once the lease runs
 * out another process claims the job again, up to its attempt bound.
 */
export class DurableJobQueue implements JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly recurring = new Map<string, Recurring>();
  private readonly running = new Map<string, Running>();
  private readonly clock: Clock;
  private readonly workerId: string;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly runTimeoutMs: number;
  private readonly retry: { baseMs: number; maxMs: number };
  private readonly stopGraceMs: number;
  private started = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private claims = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: DurableJobQueueOptions) {
    this.clock = options.clock ?? systemClock;
    const host = hostname().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 40) || 'host';
    this.workerId = options.workerId ?? `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.pollMs = Math.max(10, options.pollMs ?? 1_000);
    this.leaseMs = Math.max(300, options.leaseMs ?? 30_000);
    this.runTimeoutMs = options.runTimeoutMs ?? 15 * 60_000;
    this.retry = options.retry ?? { baseMs: 5_000, maxMs: 5 * 60_000 };
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
  }

  async enqueue(job: NewJob): Promise<{ id: string; created: boolean }> {
    if (job.kind.trim() === '') throw new RangeError('a job needs a kind');
    const now = new Date(this.clock.now());
    const result = await insertJob(this.options.db, job, now);
    if (result.created && this.handlers.has(job.kind) && (job.runAt === undefined || job.runAt <= now)) this.poke();
    return result;
  }

  handle(kind: string, handler: JobHandler): void {
    if (this.started) throw new Error(`register the handler for ${kind} before start()`);
    if (this.handlers.has(kind)) throw new Error(`a handler for ${kind} is already registered`);
    this.handlers.set(kind, handler);
  }

  every(kind: string, intervalMs: number, payload: Record<string, unknown> = {}): void {
    if (!Number.isFinite(intervalMs) || intervalMs < 1_000) throw new RangeError(`every(${kind}): the interval must be at least 1000 ms`);
    this.recurring.set(kind, { kind, intervalMs, payload, nextCheck: 0 });
  }

  get(id: string): Promise<JobRecord | undefined> {
    return findJob(this.options.db, id);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.poke();
  }

  /** Stops claiming, lets running jobs finish for a grace period, then aborts them and hands them back. */
  async stop(): Promise<void> {
    if (this.stopping) return this.drain();
    this.stopping = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.ticking;
    const grace = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), this.stopGraceMs);
      void this.drain().then(() => clearTimeout(t));
    });
    if ((await Promise.race([this.drain().then(() => 'drained' as const), grace])) === 'timeout') {
      for (const entry of this.running.values()) entry.controller.abort(new Error('the process is stopping'));
      await this.drain();
    }
  }

  /** Resolves when this process runs nothing (tests, benchmarks, shutdown). */
  drain(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Looks for due work now rather than at the next poll. */
  poke(): void {
    if (!this.started || this.stopping) return;
    if (this.ticking !== undefined) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    this.timer = undefined;
    this.ticking = this.claimAndRun()
      .catch((error: unknown) => {
        // The database may be restarting: the rows stay, and the next poll tries again.
        this.options.logger.warn({ reason: describeDatabaseError(error) }, 'job queue: looking for due work failed; trying again at the next poll');
        return false;
      })
      .then((full) => {
        this.ticking = undefined;
        if (this.stopping) return;
        const soon = this.again || full;
        this.again = false;
        this.timer = setTimeout(() => this.tick(), soon ? 0 : this.pollMs);
      });
  }

  /** True when it filled every free slot, so there may be more due right away. */
  private async claimAndRun(): Promise<boolean> {
    const { db } = this.options;
    const now = new Date(this.clock.now());
    for (const r of this.recurring.values()) {
      if (now.getTime() < r.nextCheck) continue;
      const slot = await takeRecurringSlot(db, { kind: r.kind, intervalMs: r.intervalMs, payload: r.payload, now });
      r.nextCheck = slot.nextRunAt.getTime();
    }
    const kinds = [...this.handlers.keys()];
    const free = this.concurrency - this.running.size;
    if (kinds.length === 0 || free <= 0) return false;
    const abandoned = await failAbandoned(db, kinds, now);
    if (abandoned > 0) this.options.logger.warn({ count: abandoned }, 'job queue: jobs whose last attempt died with its process recorded as failed');
    this.claims += 1;
    const claimed = await claimJobs(db, {
      kinds,
      limit: free,
      owner: `${this.workerId}#${this.claims}`,
      now,
      leaseUntil: new Date(now.getTime() + this.leaseMs),
    });
    for (const job of claimed) this.run(job);
    return claimed.length === free;
  }

  private run(job: ClaimedJob): void {
    const controller = new AbortController();
    const entry: Running = { job, controller, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.execute(job, controller)
      .catch((error: unknown) => {
        this.options.logger.error({ job: job.id, kind: job.kind, reason: describeDatabaseError(error) }, 'job queue: recording the outcome failed; the lease will run out and the job be taken again');
      })
      .finally(() => {
        this.running.delete(job.id);
        if (this.running.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
        this.poke();
      });
  }

  private async execute(job: ClaimedJob, controller: AbortController): Promise<void> {
    const { db, logger } = this.options;
    const handler = this.handlers.get(job.kind) as JobHandler;
    const renew = setInterval(() => {
      extendLease(db, job.id, job.leaseOwner, new Date(this.clock.now() + this.leaseMs))
        .then((held) => {
          if (!held) controller.abort(new Error('the job lease was lost to another process'));
        })
        .catch(() => undefined); // a blip: the next renewal tries again, well inside the lease
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    const timeout = setTimeout(() => controller.abort(new Error(`the run took longer than ${this.runTimeoutMs} ms`)), this.runTimeoutMs);
    let outcome: { ok: true; result: Record<string, unknown> | null } | { ok: false; error: string };
    try {
      const result = await handler({ id: job.id, payload: job.payload, attempt: job.attempt, signal: controller.signal });
      outcome = { ok: true, result: result ?? null };
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearInterval(renew);
      clearTimeout(timeout);
    }
    const now = new Date(this.clock.now());
    if (this.stopping && controller.signal.aborted) {
      await releaseJob(db, job.id, job.leaseOwner, now);
      return;
    }
    if (outcome.ok) {
      const recorded = await completeJob(db, job.id, job.leaseOwner, outcome.result, now);
      if (!recorded) logger.warn({ job: job.id, kind: job.kind }, 'job queue: finished a job whose lease had passed to another process');
      return;
    }
    const gaveUp = job.attempt >= job.maxAttempts;
    const retryAt = gaveUp ? null : new Date(now.getTime() + Math.max(this.retry.baseMs, jitteredBackoff(job.attempt, this.retry.baseMs, this.retry.maxMs)));
    const reason = `attempt ${job.attempt} of ${job.maxAttempts}: ${outcome.error}`;
    await failJob(db, job.id, job.leaseOwner, reason, now, retryAt);
    logger.warn({ job: job.id, kind: job.kind, attempt: job.attempt, reason: outcome.error, retryAt: retryAt?.toISOString() }, gaveUp ? 'job failed; no attempts left' : 'job failed; it will be retried');
  }
}

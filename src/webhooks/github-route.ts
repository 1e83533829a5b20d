import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Secret } from '../config/secret.ts';
import { describeDatabaseError } from '../db/database.ts';
import { BodyTooLargeError, readBody, sendJson, type HttpServer } from '../http/server.ts';
import type { InvalidationPublisher } from '../invalidation/bus.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import { DeliveryQueue, type RetryPolicy } from './delivery-queue.ts';
import { DeliveryStore } from './delivery-store.ts';
import { DeliverySweeper } from './delivery-sweeper.ts';
import { classifyDelivery } from './intake.ts';
import { createWebhookMetrics, type DeliveryOutcome } from './metrics.ts';
import { createDeliveryProcessor, type DeliveryProcessor, type WebhookEngine } from './processor.ts';
import type { CorrelationScope } from '../process/correlation.ts';
import { createSignatureCheck } from './signature.ts';
import type { WebhookTables } from './tables.ts';

export const GITHUB_WEBHOOK_PATH = '/webhooks/github';

export interface GithubWebhookOptions {
  /** Larger bodies are refused with 413 (GitHub caps its payloads at 25 MB; ours are small). */
  maxBodyBytes: number;
  concurrency: number;
  maxPending: number;
  retry: RetryPolicy;
  leaseMs: number;
  sweepIntervalMs: number;
  sweepBatch: number;
  retentionMs: number;
}

export const defaultWebhookOptions: GithubWebhookOptions = {
  maxBodyBytes: 1024 * 1024,
  concurrency: 4,
  maxPending: 1_000,
  retry: { maxAttempts: 8, baseMs: 5_000, maxMs: 10 * 60_000 },
  leaseMs: 60_000,
  sweepIntervalMs: 15_000,
  sweepBatch: 100,
  retentionMs: 7 * 24 * 3_600_000,
};

export interface GithubWebhookDeps<DB extends WebhookTables = WebhookTables> {
  /** GITHUB_WEBHOOK_SECRET; unset, the route answers 503. */
  secret: Secret | undefined;
  /** The app database (it must have the webhook_deliveries table). */
  db: Kysely<DB>;
  engine: WebhookEngine;
  bus: InvalidationPublisher;
  metrics: Registry;
  logger: Logger;
  clock: Clock;
  /** Processing runs with the delivery id as its correlation id. */
  correlation?: CorrelationScope;
  /** Test seam: wraps the processor (fault injection). */
  wrapProcessor?: (processor: DeliveryProcessor) => DeliveryProcessor;
  options?: Partial<GithubWebhookOptions>;
}

export interface GithubWebhooks {
  store: DeliveryStore;
  queue: DeliveryQueue;
  sweeper: DeliverySweeper;
  /** Starts the sweeper: takes over deliveries left unfinished (by a crash too) and retries failures. */
  start(): void;
  /** Waits until the in-process queue is idle (tests, benchmarks). */
  drain(): Promise<void>;
  /** Stops sweeping and waits for running work; call before closing the database. */
  close(): Promise<void>;
}

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/**
 * POST /webhooks/github: verifies GitHub's signature over the raw body,
 * records each delivery id once (a redelivery or replay is answered
 * `duplicate`, also after a restart), answers at once and does the work
 * from an in-process queue backed by the table.
 */
export function mountGithubWebhook<DB extends WebhookTables>(http: HttpServer, deps: GithubWebhookDeps<DB>): GithubWebhooks {
  const options = { ...defaultWebhookOptions, ...deps.options };
  const logger = deps.logger.child({ component: 'webhooks' });
  const metrics = createWebhookMetrics(deps.metrics);
  const store = DeliveryStore.over(deps.db);
  const queue = new DeliveryQueue({
    store,
    process: (deps.wrapProcessor ?? ((p: DeliveryProcessor) => p))(createDeliveryProcessor({ engine: deps.engine, bus: deps.bus, clock: deps.clock })),
    ...(deps.correlation === undefined ? {} : { correlation: deps.correlation }),
    clock: deps.clock,
    logger,
    metrics,
    concurrency: options.concurrency,
    maxPending: options.maxPending,
    retry: options.retry,
  });
  const sweeper = new DeliverySweeper({
    store,
    queue,
    clock: deps.clock,
    logger,
    leaseMs: options.leaseMs,
    batch: options.sweepBatch,
    maxAttempts: options.retry.maxAttempts,
    retentionMs: options.retentionMs,
  });
  const verify = deps.secret === undefined ? undefined : createSignatureCheck(deps.secret);

  const answer = (res: ServerResponse, event: string | undefined, outcome: DeliveryOutcome, status: number, body: Record<string, unknown>): void => {
    metrics.delivery(event ?? 'other', outcome);
    sendJson(res, status, body);
  };

  http.route('POST', GITHUB_WEBHOOK_PATH, async (req: IncomingMessage, res: ServerResponse) => {
    const eventHeader = header(req, 'x-github-event');
    if (verify === undefined) {
      answer(res, eventHeader, 'error', 503, { error: 'webhooks are not configured: set GITHUB_WEBHOOK_SECRET to the secret of the GitHub webhook' });
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        answer(res, eventHeader, 'error', 413, { error: `payload larger than ${options.maxBodyBytes} bytes` });
      } else if (!res.destroyed) {
        answer(res, eventHeader, 'error', 400, { error: 'the request body could not be read' });
      }
      return;
    }
    // Nothing below runs for a request GitHub did not sign.
    if (!(await verify(raw, header(req, 'x-hub-signature-256')))) {
      answer(res, eventHeader, 'bad_signature', 401, { error: 'missing or invalid X-Hub-Signature-256' });
      return;
    }
    const deliveryId = header(req, 'x-github-delivery');
    if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) {
      answer(res, eventHeader, 'error', 400, { error: 'missing or invalid X-GitHub-Delivery' });
      return;
    }
    if (eventHeader === undefined || !EVENT_NAME.test(eventHeader)) {
      answer(res, eventHeader, 'error', 400, { error: 'missing or invalid X-GitHub-Event' });
      return;
    }
    const event = eventHeader;
    if ((header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      answer(res, event, 'error', 415, { error: 'set the webhook content type to application/json on GitHub' });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      answer(res, event, 'error', 400, { error: 'the body is not valid JSON' });
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      answer(res, event, 'error', 400, { error: 'the body is not a JSON object' });
      return;
    }

    let inserted: boolean;
    let held = false;
    let intake: Awaited<ReturnType<typeof classifyDelivery>>;
    const now = deps.clock.now();
    try {
      intake = await classifyDelivery(deps.engine, event, body);
      if (intake.kind === 'invalid') {
        answer(res, event, 'error', 400, { error: intake.reason });
        return;
      }
      const queued = intake.kind === 'queue';
      // Held by this process when its queue takes it; otherwise free for the sweeper at once.
      held = queued && queue.capacity > 0;
      inserted = await store.insert({
        deliveryId,
        event,
        action: intake.action,
        repo: intake.repo,
        status: queued ? 'queued' : 'done',
        payload: intake.kind === 'ack' ? {} : (intake.payload ?? {}),
        result: intake.kind === 'ack' ? intake.result : intake.kind === 'ignore' ? `ignored: ${intake.reason}` : null,
        receivedAt: new Date(now),
        nextAttemptAt: queued ? new Date(now) : null,
        claimedUntil: held ? new Date(now + options.leaseMs) : null,
        // Held: this process runs the first attempt now, so it counts now.
        attempts: held ? 1 : 0,
      });
    } catch (error) {
      // Nothing was recorded: a 5xx makes the delivery show as failed on GitHub, to be redelivered.
      logger.warn({ delivery: deliveryId, event, reason: describeDatabaseError(error) }, 'could not record a webhook delivery');
      answer(res, event, 'error', 503, { error: 'temporarily unable to record the delivery; redeliver it later' });
      return;
    }
    if (!inserted) {
      answer(res, event, 'duplicate', 200, { status: 'duplicate', delivery: deliveryId });
      return;
    }
    switch (intake.kind) {
      case 'queue':
        answer(res, event, 'accepted', 202, { status: 'queued', delivery: deliveryId });
        // Not held (the queue was full): the sweeper takes it from the table.
        if (held) queue.offer({ deliveryId, event, payload: intake.payload, attempt: 1 });
        return;
      case 'ack': {
        // GitHub pings a webhook when it is created: from then on this repo's pushes reach us.
        const [owner, repo] = (intake.repo ?? '').split('/');
        if (owner && repo) deps.engine.markWebhookBacked(owner, repo, deps.clock.now());
        answer(res, event, 'accepted', 200, { status: 'ok', delivery: deliveryId });
        return;
      }
      case 'ignore':
        answer(res, event, 'ignored', 200, { status: 'ignored', reason: intake.reason, delivery: deliveryId });
        return;
    }
  });

  return {
    store,
    queue,
    sweeper,
    start() {
      sweeper.start(options.sweepIntervalMs);
    },
    drain: () => queue.drain(),
    async close() {
      sweeper.stop();
      await queue.close();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Secret } from '../config/secret.ts';
import { describeDatabaseError } from '../db/database.ts';
import { BodyRefusedError, readBoundedBody } from '../http/bounded-body.ts';
import { refuseRequest } from '../http/refuse.ts';
import { sendJson, type HttpServer } from '../http/server.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import { DeliveryQueue, type RetryPolicy } from './delivery-queue.ts';
import { DeliveryStore } from './delivery-store.ts';
import { DeliverySweeper } from './delivery-sweeper.ts';
import { HOOK_ID, type ConfigHookStore } from './config-hooks.ts';
import { HookLookupBusyError, HookSecretCache, defaultHookSecretCacheOptions, type HookSecretCacheOptions } from './hook-secret-cache.ts';
import { classifyDelivery, type DeliveryScope } from './intake.ts';
import { createWebhookMetrics, type DeliveryOutcome } from './metrics.ts';
import type { PushGroup } from '../prompts/engine.ts';
import { createDeliveryProcessor, type WebhookEngine } from './processor.ts';
import { commitReplacedInPush } from './push-history.ts';
import { RefreshLimiter } from './refresh-limiter.ts';
import { createSignatureCheck, isSignatureHeader, type SignatureCheck } from './signature.ts';
import type { DeliveryProcessor } from './processor.ts';
import type { CorrelationScope } from '../process/correlation.ts';
import type { Database } from '../db/schema.ts';

/** The operator's webhook (GITHUB_WEBHOOK_SECRET): for every config of the repository. */
const GITHUB_WEBHOOK_PATH = '/webhooks/github';
/** A config's own webhook: `/webhooks/github/<hook id>`, verified with that config's secret only. */
export const CONFIG_WEBHOOK_PREFIX = `${GITHUB_WEBHOOK_PATH}/`;

/** The payload URL of a config's webhook; `publicUrl` is the bot's public base URL (PUBLIC_URL). */
export function configWebhookUrl(publicUrl: string, hookId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${CONFIG_WEBHOOK_PREFIX}${hookId}`;
}

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
  /** At most one delivery-caused refresh per repository per this interval; the rest merge into one trailing refresh. */
  refreshIntervalMs: number;
  hookCache: HookSecretCacheOptions;
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
  refreshIntervalMs: 10_000,
  hookCache: defaultHookSecretCacheOptions,
};

export interface GithubWebhookDeps {
  /** GITHUB_WEBHOOK_SECRET; unset, the operator's route answers 503 (per-config hooks still work). */
  secret: Secret | undefined;
  /** The per-config hooks and their secrets. */
  hooks: ConfigHookStore;
  /** The app database (it must have the webhook_deliveries table). */
  db: Kysely<Database>;
  /** The prompt engine: every change a delivery makes, and its announcement to other processes, goes through it. */
  engine: WebhookEngine;
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
  /** Forgets what this process cached about a guild's hook (it was rotated or removed, here or elsewhere). */
  forgetGuild(guildId: string): void;
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
 * POST /webhooks/github (the operator's secret) and POST
 * /webhooks/github/<hook id> (one config's secret): verifies GitHub's
 * signature over the raw body before anything else, records each delivery
 * id once (a redelivery or replay is answered `duplicate`, also after a
 * restart), answers at once and does the work from an in-process queue
 * backed by the table. Each delivery changes only the configs its secret
 * speaks for (see intake.ts and processor.ts).
 */
export function mountGithubWebhook(http: HttpServer, deps: GithubWebhookDeps): GithubWebhooks {
  const options = { ...defaultWebhookOptions, ...deps.options };
  const logger = deps.logger.child({ component: 'webhooks' });
  const metrics = createWebhookMetrics(deps.metrics);
  const store = DeliveryStore.over(deps.db);
  const limiter = new RefreshLimiter<PushGroup>(deps.clock, { intervalMs: options.refreshIntervalMs, maxRepos: 10_000 });
  const queue = new DeliveryQueue({
    store,
    process: (deps.wrapProcessor ?? ((p: DeliveryProcessor) => p))(
      createDeliveryProcessor({
        engine: deps.engine,
        hooks: deps.hooks,
        clock: deps.clock,
        limiter,
        replacedInPush: (push) => commitReplacedInPush(deps.db, push),
      }),
    ),
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
  const hookChecks = new HookSecretCache<HookCheck>(async (hookId) => {
    const found = await deps.hooks.secretFor(hookId);
    return found === undefined ? undefined : { guildId: found.guildId, rotatedAt: found.rotatedAt, check: createSignatureCheck(found.secret) };
  }, options.hookCache);

  const answer = (res: ServerResponse, event: string | undefined, outcome: DeliveryOutcome, status: number, body: Record<string, unknown>): void => {
    metrics.delivery(event ?? 'other', outcome);
    sendJson(res, status, body);
  };

  /** Reads the body within the size cap and the unauthenticated-body budget; undefined when it was refused (the answer is sent). */
  const readCapped = async (req: IncomingMessage, eventHeader: string | undefined): Promise<Buffer | undefined> => {
    try {
      return await readBoundedBody(req, { limit: options.maxBodyBytes, ...http.bodies });
    } catch (error) {
      if (!(error instanceof BodyRefusedError)) throw error;
      metrics.delivery(eventHeader ?? 'other', 'error');
      refuseRequest(req, error.status, { error: error.message }, { headers: error.headers });
      return undefined;
    }
  };

  http.route('POST', GITHUB_WEBHOOK_PATH, async (req: IncomingMessage, res: ServerResponse) => {
    const eventHeader = header(req, 'x-github-event');
    if (verify === undefined) {
      // Refused unread: a body nobody can verify is not worth a byte of memory.
      metrics.delivery(eventHeader ?? 'other', 'error');
      refuseRequest(req, 503, { error: 'webhooks are not configured: set GITHUB_WEBHOOK_SECRET to the secret of the GitHub webhook' });
      return;
    }
    const raw = await readCapped(req, eventHeader);
    if (raw === undefined) return;
    // Nothing below runs for a request GitHub did not sign.
    if (!(await verify(raw, header(req, 'x-hub-signature-256')))) {
      answer(res, eventHeader, 'bad_signature', 401, { error: 'missing or invalid X-Hub-Signature-256' });
      return;
    }
    await accept(req, res, raw, { kind: 'operator' });
  });

  // An unknown id and a bad signature get the same answer: the route tells a stranger nothing.
  const refuseHook = (res: ServerResponse, event: string | undefined): void =>
    answer(res, event, 'bad_signature', 401, { error: 'unknown webhook, or missing or invalid X-Hub-Signature-256' });

  http.routePrefix('POST', CONFIG_WEBHOOK_PREFIX, async (req: IncomingMessage, res: ServerResponse) => {
    const eventHeader = header(req, 'x-github-event');
    const hookId = (req.url ?? '').split('?', 1)[0]?.slice(CONFIG_WEBHOOK_PREFIX.length) ?? '';
    const raw = await readCapped(req, eventHeader);
    if (raw === undefined) return;
    const signature = header(req, 'x-hub-signature-256');
    // Malformed ids and signatures are refused before the id is looked up.
    if (!HOOK_ID.test(hookId) || !isSignatureHeader(signature) || raw.length === 0) {
      refuseHook(res, eventHeader);
      return;
    }
    let verified: HookCheck | undefined;
    try {
      verified = await verifyHook(hookId, raw, signature);
    } catch (error) {
      if (error instanceof HookLookupBusyError) {
        res.setHeader('retry-after', '5');
        answer(res, eventHeader, 'error', 429, { error: 'too many webhook deliveries for unknown ids at once; redeliver it later' });
        return;
      }
      // The id is known but its secret cannot be read (a database outage, a missing master key): the operator must see it.
      logger.warn({ hook: hookId, reason: describeDatabaseError(error) }, 'could not read the secret of a config webhook');
      answer(res, eventHeader, 'error', 503, { error: 'temporarily unable to verify the delivery; redeliver it later' });
      return;
    }
    if (verified === undefined) {
      refuseHook(res, eventHeader);
      return;
    }
    await accept(req, res, raw, { kind: 'hook', hookId, guildId: verified.guildId });
  });

  /**
   * The cached check verifies, then the hook's stamp is read again: a
   * secret rotated or removed (in any process) stops verifying at once,
   * without the cache being told.
   */
  const verifyHook = async (hookId: string, raw: Buffer, signature: string): Promise<HookCheck | undefined> => {
    const cached = await hookChecks.get(hookId);
    if (cached === undefined || !(await cached.check(raw, signature))) return undefined;
    const rotatedAt = await deps.hooks.rotatedAt(hookId);
    if (rotatedAt === cached.rotatedAt) return cached;
    hookChecks.forget(hookId);
    if (rotatedAt === undefined) return undefined;
    const fresh = await hookChecks.get(hookId);
    return fresh !== undefined && (await fresh.check(raw, signature)) ? fresh : undefined;
  };

  const accept = async (req: IncomingMessage, res: ServerResponse, raw: Buffer, scope: DeliveryScope): Promise<void> => {
    const eventHeader = header(req, 'x-github-event');
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
      intake = await classifyDelivery(deps.engine, deps.hooks, scope, event, body);
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
        hookId: scope.kind === 'hook' ? scope.hookId : null,
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
    if (scope.kind === 'hook') {
      // For /prompt-config status ("last delivery"); the delivery itself is already safe in its row.
      await deps.hooks.recordDelivery(scope.hookId, new Date(now), intake.kind === 'ack' && intake.backs).catch((error: unknown) => {
        logger.warn({ delivery: deliveryId, reason: describeDatabaseError(error) }, 'could not record the delivery time of a config webhook');
      });
    }
    switch (intake.kind) {
      case 'queue':
        answer(res, event, 'accepted', 202, { status: 'queued', delivery: deliveryId });
        // Not held (the queue was full): the sweeper takes it from the table.
        if (held) queue.offer({ deliveryId, event, payload: intake.payload, attempt: 1 });
        return;
      case 'ack': {
        // GitHub pings a webhook when it is created: from then on this repo's pushes reach us.
        // Only the operator's webhook speaks for the repository; a config's hook backs its config (recorded above).
        const [owner, repo] = (intake.repo ?? '').split('/');
        if (scope.kind === 'operator' && intake.backs && owner && repo) deps.engine.applyWebhookPing(owner, repo);
        answer(res, event, 'accepted', 200, { status: 'ok', delivery: deliveryId, ...(intake.result === 'ping' ? {} : { note: intake.result }) });
        return;
      }
      case 'ignore':
        answer(res, event, 'ignored', 200, { status: 'ignored', reason: intake.reason, delivery: deliveryId });
        return;
    }
  };

  return {
    store,
    queue,
    sweeper,
    forgetGuild: (guildId) => hookChecks.forgetGuild(guildId),
    start() {
      sweeper.start(options.sweepIntervalMs);
    },
    drain: () => queue.drain(),
    async close() {
      sweeper.stop();
      limiter.close();
      await queue.close();
    },
  };
}

interface HookCheck {
  guildId: string;
  rotatedAt: number;
  check: SignatureCheck;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { Webhooks } from '@octokit/webhooks';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { Secret } from '../../src/config/secret.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { createInvalidationBus, type InvalidationBus } from '../../src/invalidation/bus.ts';
import { createLogger, type Logger } from '../../src/log/logger.ts';
import type { Clock } from '../../src/resilience/clock.ts';
import { ConfigHookStore } from '../../src/webhooks/config-hooks.ts';
import { mountGithubWebhook, type GithubWebhookOptions, type GithubWebhooks } from '../../src/webhooks/github-route.ts';
import type { Database } from '../../src/db/schema.ts';
import { buildEngine, type EngineUnderTest } from '../prompts/engine-helpers.ts';
import { silentLogger, type TestDatabase } from '../helpers/databases.ts';
import { useGitHubOnClock, type GitHubOnClock } from '../helpers/github-on-clock.ts';

export const WEBHOOK_SECRET = 'whsec-test-3f1a9c0e7b';

export async function withWebhookTable(handle: DatabaseHandle): Promise<Kysely<Database>> {
  return handle.db;
}

// --- real payloads from @octokit/webhooks-examples -------------------------

const require = createRequire(import.meta.url);
const definitions = (name: 'api.github.com' | 'ghes-35'): WebhookDefinition[] =>
  require(`@octokit/webhooks-examples/${name}/index.json`) as WebhookDefinition[];

function example(event: string, pick: (e: Record<string, unknown>) => boolean, source: 'api.github.com' | 'ghes-35' = 'api.github.com'): Record<string, unknown> {
  const definition = definitions(source).find((d) => d.name === event);
  const found = (definition?.examples as unknown as Array<Record<string, unknown>> | undefined)?.find(pick);
  if (found === undefined) throw new Error(`no ${event} example in @octokit/webhooks-examples (${source})`);
  return structuredClone(found);
}

type Repo = { name: string; full_name: string; owner: { login: string; name?: string } };

function renameRepository(payload: Record<string, unknown>, owner: string, name: string): void {
  const repo = payload.repository as Repo;
  repo.name = name;
  repo.full_name = `${owner}/${name}`;
  repo.owner.login = owner;
  if (repo.owner.name !== undefined) repo.owner.name = owner;
}

/** GitHub's example branch push, re-pointed at `owner/name`, `ref` and the new head. */
export function pushPayload(fullName: string, options: { branch?: string; ref?: string; after: string; before?: string }): Record<string, unknown> {
  const payload = example('push', (e) => typeof e.ref === 'string' && e.ref.startsWith('refs/heads/') && e.deleted === false);
  const [owner, name] = fullName.split('/') as [string, string];
  renameRepository(payload, owner, name);
  payload.ref = options.ref ?? `refs/heads/${options.branch ?? 'main'}`;
  payload.after = options.after;
  if (options.before !== undefined) payload.before = options.before;
  return payload;
}

/** Any example of an event (for events the bot does not use). */
export function examplePayload(event: string): Record<string, unknown> {
  return example(event, () => true);
}

export function pingPayload(): Record<string, unknown> {
  return example('ping', (e) => e.repository !== undefined);
}

/** renamed: `from` → `to` (same owner); transferred: `from`'s owner → `to`'s owner; deleted: `from`. */
export function repositoryPayload(action: 'renamed' | 'transferred' | 'deleted' | 'edited', from: string, to = from): Record<string, unknown> {
  const payload = example('repository', (e) => e.action === action, action === 'deleted' ? 'ghes-35' : 'api.github.com');
  const [toOwner, toName] = to.split('/') as [string, string];
  renameRepository(payload, toOwner, toName);
  const [fromOwner, fromName] = from.split('/') as [string, string];
  if (action === 'renamed') (payload.changes as { repository: { name: { from: string } } }).repository.name.from = fromName;
  if (action === 'transferred') (payload.changes as { owner: { from: { user: { login: string } } } }).owner.from.user.login = fromOwner;
  return payload;
}

// --- signed requests --------------------------------------------------------

const signer = new Webhooks({ secret: WEBHOOK_SECRET });

export async function sign(body: string, secret = WEBHOOK_SECRET): Promise<string> {
  return secret === WEBHOOK_SECRET ? signer.sign(body) : new Webhooks({ secret }).sign(body);
}

let deliverySeq = 0;
export function newDeliveryId(): string {
  deliverySeq += 1;
  return `72d3162e-cc78-11e3-81ab-${deliverySeq.toString(16).padStart(12, '0')}`;
}

export interface PostOptions {
  event: string;
  delivery?: string;
  /** An object (JSON-encoded) or the exact body text. */
  body: unknown;
  /** The X-Hub-Signature-256 value; default: the right one; null: none. */
  signature?: string | null;
  contentType?: string;
  /** Default `/webhooks/github` (the operator's webhook); `/webhooks/github/<id>` for a config's own. */
  path?: string;
  /** Signs with this secret instead of the operator's (ignored when `signature` is given). */
  secret?: string;
}

export async function postWebhook(baseUrl: string, options: PostOptions): Promise<{ status: number; body: Record<string, unknown>; delivery: string }> {
  const text = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const delivery = options.delivery ?? newDeliveryId();
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': options.event,
    'x-github-delivery': delivery,
  };
  const signature = options.signature === undefined ? await sign(text, options.secret) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${baseUrl}${options.path ?? '/webhooks/github'}`, { method: 'POST', headers, body: text });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, body, delivery };
}

// --- a process under test ----------------------------------------------------

export interface WebhookApp extends EngineUnderTest {
  url: string;
  /** The per-config hooks over the same database and vault. */
  hooks: ConfigHookStore;
  bus: InvalidationBus;
  webhooks: GithubWebhooks;
  close(): Promise<void>;
}

/** What the composition root will do: engine, bus (wired to the engine), HTTP server and the webhook route, over one database. */
export async function startWebhookApp(
  database: DatabaseHandle,
  options: { apiUrl: string; clock: Clock; secret?: string | null; env?: Record<string, string>; webhook?: Partial<GithubWebhookOptions>; logger?: Logger },
): Promise<WebhookApp> {
  const logger = options.logger ?? silentLogger;
  const db = await withWebhookTable(database);
  const bus = await createInvalidationBus(database, logger, { reconnect: { baseMs: 20, maxMs: 200 } });
  const under = await buildEngine(database, {
    apiUrl: options.apiUrl,
    clock: options.clock,
    announce: (event) => bus.publish(event),
    ...(options.env ? { env: options.env } : {}),
  });
  const unwire = bus.subscribe((event) => under.engine.applyRemote(event));
  const http = createHttpServer(logger);
  const secret = options.secret === null ? undefined : new Secret(options.secret ?? WEBHOOK_SECRET);
  const hooks = new ConfigHookStore(db, under.vault);
  const webhooks = mountGithubWebhook(http, {
    secret,
    hooks,
    db,
    engine: under.engine,
    metrics: under.registry,
    logger,
    clock: options.clock,
    // A short refresh interval: most tests push one repository several times in a row.
    options: { sweepIntervalMs: 3_600_000, refreshIntervalMs: 50, ...options.webhook },
  });
  const { url } = await http.listen(0, '127.0.0.1');
  return {
    ...under,
    url,
    hooks,
    bus,
    webhooks,
    async close() {
      await http.close();
      unwire();
      await webhooks.close();
      await under.engine.settle();
      await bus.close();
    },
  };
}

/** A logger whose JSON lines the test can read. */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level, format: 'json', destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** The value of one labelled series in the Prometheus text, 0 when absent. */
export async function metricValue(registry: { metrics(): Promise<string> }, name: string, labels: Record<string, string>): Promise<number> {
  const text = await registry.metrics();
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const got = (match[2] ?? '').split(',').sort().join(',');
    if (got === wanted) return Number(match[3]);
  }
  return 0;
}

/** A suite's webhook app on the GitHub emulator: started before its tests, drained and settled after each, closed after all. */
export interface WebhookSuite {
  readonly server: GitHubOnClock;
  /** Read it in or after `beforeAll`. */
  readonly app: WebhookApp;
}

/** Registers the suite's hooks; call it first in the suite. */
export function useWebhookApp(database: () => TestDatabase, startsAt: string): WebhookSuite {
  const server = useGitHubOnClock(startsAt);
  let app: WebhookApp | undefined;
  beforeAll(async () => {
    app = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock: server.clock });
  });
  afterAll(async () => {
    await app?.close();
  });
  afterEach(async () => {
    await app?.webhooks.drain();
    await app?.engine.settle();
  });
  return {
    server,
    get app() {
      if (app === undefined) throw new Error('the webhook app is not started yet (read it in beforeAll or a test)');
      return app;
    },
  };
}

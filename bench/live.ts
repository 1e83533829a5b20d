/**
 * `npm run bench -- live [--guilds 1000] [--repos 50] [--pushes 20] [--contexts 5]
 *   [--resolutions 24] [--ttl 15m] [--latency-pushes 50] [--seed 1]`
 *
 * Push-to-live: how many GitHub requests a day of prompt resolutions costs
 * when pushes arrive by webhook, against the reference bot's strategy on
 * the same trace; and how long a push takes to be served.
 *
 * Everything real but time: the prompt engine over embedded PGlite, the
 * GitHub emulator on 127.0.0.1 (which counts every request), the HTTP
 * server with the signed webhook route, the invalidation bus. A
 * ManualClock moves through the simulated day.
 */
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import { Webhooks } from '@octokit/webhooks';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { loadConfig } from '../src/config/env.ts';
import { Secret } from '../src/config/secret.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createHttpServer } from '../src/http/server.ts';
import { createInvalidationBus } from '../src/invalidation/bus.ts';
import { wireInvalidation } from '../src/invalidation/wire.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { createPromptEngine, type PromptEngine } from '../src/prompts/engine.ts';
import { noPromptMetrics } from '../src/prompts/metrics.ts';
import { ManualClock } from '../src/resilience/clock.ts';
import { Vault } from '../src/vault/vault.ts';
import { loadSodium } from '../src/vault/sodium.ts';
import { mountGithubWebhook } from '../src/webhooks/github-route.ts';
import { GitHubEmulator } from '../tests/emulators/github/server.ts';
import { quantile, report } from './_report.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The reference bot caches each (guild, context) prompt this long, and fetches PATH plus the file on a miss. */
const REFERENCE_TTL_MS = 5 * MINUTE;
const REFERENCE_REQUESTS_PER_MISS = 2;
const SECRET = 'bench-webhook-secret';
const CATEGORIES = ['discussion', 'meeting', 'support', 'release', 'random', 'design', 'ops', 'sales'];

interface Options {
  guilds: number;
  repos: number;
  pushes: number;
  contexts: number;
  resolutionsPerGuild: number;
  ttl: string;
  latencyPushes: number;
  seed: number;
}

function parseArgs(args: string[]): Options {
  const options: Options = { guilds: 1000, repos: 50, pushes: 20, contexts: 5, resolutionsPerGuild: 24, ttl: '15m', latencyPushes: 50, seed: 1 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--guilds': options.guilds = Number(value); break;
      case '--repos': options.repos = Number(value); break;
      case '--pushes': options.pushes = Number(value); break;
      case '--contexts': options.contexts = Math.min(CATEGORIES.length, Number(value)); break;
      case '--resolutions': options.resolutionsPerGuild = Number(value); break;
      case '--ttl': options.ttl = value; break;
      case '--latency-pushes': options.latencyPushes = Number(value); break;
      case '--seed': options.seed = Number(value); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return options;
}

/** Deterministic traces: the same seed gives the same day. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function repoFiles(marker: string, contexts: number): Record<string, string> {
  const files: Record<string, string> = {
    PATH: [
      'version: v1',
      'routes:',
      '  channel_specific: "prompts/{category}/{channel}.md"',
      '  category_default: "prompts/{category}/default.md"',
      'fallback_chain:',
      '  - channel_specific',
      '  - category_default',
      '',
    ].join('\n'),
  };
  for (const category of CATEGORIES.slice(0, contexts)) {
    files[`prompts/${category}/default.md`] = `${marker}: summarize #{channel} ({category}) as a {type} summary.\n\n{messages}\n`;
  }
  return files;
}

type TraceEvent = { at: number; kind: 'resolve'; guild: number; context: number } | { at: number; kind: 'push'; repo: number };

function buildTrace(o: Options, random: () => number, dayStart: number): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (let guild = 0; guild < o.guilds; guild++) {
    for (let i = 0; i < o.resolutionsPerGuild; i++) {
      events.push({ at: dayStart + Math.floor(random() * DAY), kind: 'resolve', guild, context: Math.floor(random() * o.contexts) });
    }
  }
  for (let i = 0; i < o.pushes; i++) events.push({ at: dayStart + Math.floor(random() * DAY), kind: 'push', repo: Math.floor(random() * o.repos) });
  return events.sort((a, b) => a.at - b.at);
}

/** The reference bot on the same trace: a per-(guild, context) cache with a 5-minute TTL. */
function referenceRequests(trace: TraceEvent[]): number {
  const fetchedAt = new Map<string, number>();
  let requests = 0;
  for (const event of trace) {
    if (event.kind !== 'resolve') continue;
    const key = `${event.guild}|${event.context}`;
    const last = fetchedAt.get(key);
    if (last === undefined || event.at - last >= REFERENCE_TTL_MS) {
      requests += REFERENCE_REQUESTS_PER_MISS;
      fetchedAt.set(key, event.at);
    }
  }
  return requests;
}

interface Harness {
  engine: PromptEngine;
  ttlMs: number;
  github: GitHubEmulator;
  clock: ManualClock;
  webhookUrl: string;
  drain(): Promise<void>;
  close(): Promise<void>;
}

async function startHarness(o: Options): Promise<Harness> {
  const logger = createLogger({ level: 'silent', format: 'json' });
  const clock = new ManualClock(Date.parse('2026-11-02T00:00:00Z'));
  const github = new GitHubEmulator({ clock, quota: { anonymous: 10_000_000, authenticated: 10_000_000 } });
  const emulator = await github.start();
  const database: DatabaseHandle = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create() });
  await migrateToLatest(database.db);

  const config = loadConfig({ GITHUB_API_URL: emulator.baseUrl, PROMPT_CACHE_TTL: o.ttl });
  const engine = createPromptEngine({
    config,
    db: database.db,
    vault: new Vault(database.db, await loadSodium(), undefined),
    logger,
    clock,
    metrics: noPromptMetrics,
    bundled: (await loadLocalRepo('prompts')).repo,
  });
  const bus = await createInvalidationBus(database, logger);
  const unwire = wireInvalidation(bus, engine, logger);
  const http = createHttpServer(logger);
  const webhooks = mountGithubWebhook(http, {
    secret: new Secret(SECRET),
    db: database.db,
    engine,
    bus,
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    logger,
    clock,
  });
  const { url } = await http.listen(0, '127.0.0.1');
  return {
    engine,
    ttlMs: config.prompts.ttlMs,
    github,
    clock,
    webhookUrl: `${url}/webhooks/github`,
    drain: () => webhooks.drain(),
    async close() {
      await http.close();
      unwire();
      await webhooks.close();
      await engine.cache.settle();
      await bus.close();
      await database.close();
      await emulator.close();
    },
  };
}

const signer = new Webhooks({ secret: SECRET });
let deliveries = 0;

/** GitHub's example branch push (from @octokit/webhooks-examples), re-pointed at each pushed repo. */
const examplePush = (() => {
  const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as WebhookDefinition[];
  const examples = (definitions.find((d) => d.name === 'push')?.examples ?? []) as unknown as Array<Record<string, unknown>>;
  const branchPush = examples.find((e) => typeof e.ref === 'string' && e.ref.startsWith('refs/heads/') && e.deleted === false);
  if (branchPush === undefined) throw new Error('no branch push example in @octokit/webhooks-examples');
  return branchPush;
})();

async function deliverPush(url: string, owner: string, repo: string, after: string): Promise<void> {
  const payload = structuredClone(examplePush) as Record<string, unknown> & { repository: { name: string; full_name: string; owner: { login: string; name?: string } } };
  payload.ref = 'refs/heads/main';
  payload.after = after;
  payload.repository.name = repo;
  payload.repository.full_name = `${owner}/${repo}`;
  payload.repository.owner.login = owner;
  payload.repository.owner.name = owner;
  const body = JSON.stringify(payload);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `bench-${++deliveries}`,
      'x-hub-signature-256': await signer.sign(body),
    },
    body,
  });
  if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
}

/** What GitHub sends when an admin adds the webhook to a repository. */
async function deliverPing(url: string, owner: string, repo: string): Promise<void> {
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, repository: { name: repo, full_name: `${owner}/${repo}`, owner: { login: owner } } });
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': `bench-${++deliveries}`,
      'x-hub-signature-256': await signer.sign(body),
    },
    body,
  });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status} to a ping: ${await res.text()}`);
}

const repoName = (i: number): string => `r${String(i).padStart(3, '0')}`;
const contextOf = (i: number) => ({ category: CATEGORIES[i] as string, channel_name: 'general', type: 'brief', guild_name: 'Bench' });

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const h = await startHarness(o);
  try {
    const heads: string[] = [];
    for (let r = 0; r < o.repos; r++) heads.push(h.github.createRepo(`bench/${repoName(r)}`, { files: repoFiles(`R${r}-0`, o.contexts) }) as string);
    for (let g = 0; g < o.guilds; g++) {
      const repo = repoName(g % o.repos);
      await h.engine.configs.save({
        guildId: `g${g}`,
        repoUrl: `https://github.com/bench/${repo}`,
        apiBaseUrl: h.github.baseUrl,
        owner: 'bench',
        repo,
        branch: 'main',
        actorId: 'bench',
      });
    }

    // The admins added the webhook to each prompt repo; GitHub pinged it.
    for (let r = 0; r < o.repos; r++) await deliverPing(h.webhookUrl, 'bench', repoName(r));

    // --- a day: cold caches at midnight, resolutions and pushes as they come
    const trace = buildTrace(o, mulberry32(o.seed), h.clock.now());
    h.github.resetStats();
    let pushSeq = 0;
    for (const event of trace) {
      h.clock.set(event.at);
      if (event.kind === 'resolve') {
        await h.engine.resolver.resolve(`g${event.guild}`, contextOf(event.context));
      } else {
        const repo = repoName(event.repo);
        const sha = h.github.push(`bench/${repo}`, 'main', repoFiles(`R${event.repo}-${++pushSeq}`, o.contexts));
        await deliverPush(h.webhookUrl, 'bench', repo, sha);
        await h.drain();
      }
      await h.engine.cache.settle();
    }
    const ours = h.github.count();
    const reference = referenceRequests(trace);
    report('prompt-cache-ttl', h.ttlMs / MINUTE, 'min');
    report('github-requests-day', ours, 'requests');
    report('github-requests-day-revalidations', h.github.count('commit', 304), 'requests');
    report('github-requests-day-reference', reference, 'requests');
    report('github-requests-ratio', reference / Math.max(1, ours), 'x');

    // --- push-to-live in one process: webhook sent → new prompt served
    const random = mulberry32(o.seed + 1);
    const latencies: number[] = [];
    for (let i = 0; i < o.latencyPushes; i++) {
      const r = Math.floor(random() * o.repos);
      const repo = repoName(r);
      const guild = `g${r}`; // guild r uses repo r
      const ctx = contextOf(0);
      await h.engine.resolver.resolve(guild, ctx);
      await h.engine.cache.settle();
      const sha = h.github.push(`bench/${repo}`, 'main', repoFiles(`L${i}`, o.contexts));
      const started = performance.now();
      await deliverPush(h.webhookUrl, 'bench', repo, sha);
      for (;;) {
        const served = await h.engine.resolver.resolve(guild, ctx);
        if (served.commit === sha) break;
        if (performance.now() - started > 10_000) throw new Error(`push ${i} to ${repo} was not served within 10 s`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      latencies.push(performance.now() - started);
      await h.drain();
      await h.engine.cache.settle();
    }
    report('push-to-live-local-p50', Math.round(quantile(latencies, 0.5) * 10) / 10, 'ms');
    report('push-to-live-local-p95', Math.round(quantile(latencies, 0.95) * 10) / 10, 'ms');

    // --- push-to-live across two bot processes ------------------------------
    // PLACE FOR `push-to-live-p50` / `push-to-live-p95` (ms): needs the
    // Discord bot. Start two bot processes on one real Postgres; deliver the
    // signed push to process A's webhook route; time until process B answers
    // a summary request with the pushed commit's prompt (B learns of the push
    // through the invalidation bus and reads the snapshot A stored).
  } finally {
    await h.close();
  }
}

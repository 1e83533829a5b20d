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
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Webhooks } from '@octokit/webhooks';
import pg from 'pg';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { loadConfig } from '../src/config/env.ts';
import { Secret } from '../src/config/secret.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createHttpServer } from '../src/http/server.ts';
import { createInvalidationBus } from '../src/invalidation/bus.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { createPromptEngine, type PromptEngine } from '../src/prompts/engine.ts';
import { noPromptMetrics } from '../src/prompts/metrics.ts';
import { ManualClock } from '../src/resilience/clock.ts';
import { Vault } from '../src/vault/vault.ts';
import { loadSodium } from '../src/vault/sodium.ts';
import { ConfigHookStore } from '../src/webhooks/config-hooks.ts';
import { mountGithubWebhook } from '../src/webhooks/github-route.ts';
import { startDiscordEmulator } from '../tests/emulators/discord/server.ts';
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
  const bus = await createInvalidationBus(database, logger);
  const engine = createPromptEngine({
    config,
    db: database.db,
    vault: new Vault(database.db, await loadSodium(), undefined),
    logger,
    clock,
    metrics: noPromptMetrics,
    bundled: (await loadLocalRepo('prompts')).repo,
    announce: (event) => bus.publish(event),
  });
  const unwire = bus.subscribe((event) => engine.applyRemote(event));
  const http = createHttpServer(logger);
  const vault = new Vault(database.db, await loadSodium(), undefined);
  const webhooks = mountGithubWebhook(http, {
    secret: new Secret(SECRET),
    hooks: new ConfigHookStore(database.db, vault),
    db: database.db,
    engine,
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    logger,
    clock,
    // Each push here is a separate measurement of the path to live, on a clock that does not move:
    // the per-repository refresh interval would only add its own wait.
    options: { refreshIntervalMs: 0 },
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
      await engine.settle();
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
      await h.engine.saveConfig({
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
      await h.engine.settle();
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
      await h.engine.settle();
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
      await h.engine.settle();
    }
    report('push-to-live-local-p50', Math.round(quantile(latencies, 0.5) * 10) / 10, 'ms');
    report('push-to-live-local-p95', Math.round(quantile(latencies, 0.95) * 10) / 10, 'ms');

    // --- push-to-live across two bot processes ------------------------------
    await pushToLiveAcrossProcesses(o.latencyPushes);
  } finally {
    await h.close();
  }
}

// ---------------------------------------------------------------------------
// Push-to-live across two bot processes: `push-to-live-p50` / `-p95` (ms).
//
// Two real `src/main.ts` processes on one throwaway database of a real
// Postgres, the Discord and GitHub emulators of this process. A has no
// Discord token and takes the signed push on its webhook route; B is the
// Discord bot. Timed: from sending the push to A until B's answer to
// `/prompt-config test` (the resolution /summarize makes) names the pushed
// commit. B learns of the push only through the invalidation bus, and reads
// the snapshot A stored.

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const POSTGRES_SERVER = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LIVE_BOT_TOKEN = 'bench-live-bot-token';
const SERVED_WITHIN_MS = 10_000;
/**
 * One poll (two REST calls of B) per 50 ms at most: discord.js holds a bot to
 * 50 requests a second, and polling faster would time B's own rate limiting
 * (~0.6 s stalls), not the push. A figure is thus late by up to this much.
 */
const POLL_EVERY_MS = 50;

async function pushToLiveAcrossProcesses(pushes: number): Promise<void> {
  const database = await throwawayDatabase(POSTGRES_SERVER);
  if (typeof database === 'string') {
    process.stderr.write(`push-to-live-p50/p95 skipped: no Postgres at ${POSTGRES_SERVER.replace(/:[^:@/]+@/, ':***@')} (${database}); set TEST_DATABASE_URL\n`);
    return;
  }
  const processes: BotProcess[] = [];
  const discord = await startDiscordEmulator({ botToken: LIVE_BOT_TOKEN });
  const github = new GitHubEmulator({ quota: { anonymous: 1_000_000, authenticated: 1_000_000 } });
  try {
    await github.start();
    const guild = discord.addGuild({ name: 'bench-live' });
    const admin = discord.addUser({ username: 'admin' });
    discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
    const channel = discord.addChannel(guild.id, { kind: 'text', name: 'general' });
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'NODE_OPTIONS')),
      DATABASE_URL: database.url,
      DISCORD_TOKEN: LIVE_BOT_TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_DEV_GUILD_ID: guild.id,
      DISCORD_REGISTER_COMMANDS: 'true',
      GITHUB_API_URL: github.baseUrl,
      GITHUB_WEBHOOK_SECRET: SECRET,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      SHARDS: '',
      RECAP_MASTER_KEYS: '',
      PLUGINS_CONFIG: '',
    };
    // B first: it migrates the fresh database before A opens it.
    const b = startBotProcess(env, processes);
    await b.running;
    const a = startBotProcess({ ...env, DISCORD_TOKEN: '' }, processes);
    const webhookUrl = `${await a.running}/webhooks/github`;

    const promptRepo = (marker: string) => ({ PATH: 'prompts/{category}.md\nprompts/default.md\n', 'prompts/default.md': `${marker}: summarize #{channel}.\n{messages}\n` });
    github.createRepo('bench/live', { files: promptRepo('V0') });
    const saved = await discord
      .sendInteraction({ type: 'command', userId: admin.id, channelId: channel.id, name: 'prompt-config', subcommand: 'set', options: { repo_url: 'bench/live' } })
      .waitForFinal(() => true, SERVED_WITHIN_MS);
    if (saved.embeds[0]?.title !== 'Saved bench/live@main') throw new Error(`could not configure the guild: ${JSON.stringify(saved.embeds[0] ?? saved.content)}`);

    /** The commit of the prompt B resolves now, from its `/prompt-config test` answer. */
    const servedCommit = async (): Promise<string | undefined> => {
      const reply = await discord
        .sendInteraction({ type: 'command', userId: admin.id, channelId: channel.id, name: 'prompt-config', subcommand: 'test' })
        .waitForFinal(() => true, SERVED_WITHIN_MS);
      const commit = reply.embeds.flatMap((e) => e.fields ?? []).find((f) => f.name.startsWith('Commit'))?.value;
      return /[0-9a-f]{7}/.exec(commit ?? '')?.[0];
    };

    const latencies: number[] = [];
    for (let i = 0; i < pushes; i++) {
      const sha = github.push('bench/live', 'main', promptRepo(`V${i + 1}`));
      const started = performance.now();
      await deliverPush(webhookUrl, 'bench', 'live', sha);
      for (;;) {
        const polled = performance.now();
        if ((await servedCommit()) === sha.slice(0, 7)) break;
        if (performance.now() - started > SERVED_WITHIN_MS) throw new Error(`push ${i} was not served by the other process within ${SERVED_WITHIN_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, polled + POLL_EVERY_MS - performance.now())));
      }
      latencies.push(performance.now() - started);
    }
    report('push-to-live-p50', Math.round(quantile(latencies, 0.5) * 10) / 10, 'ms');
    report('push-to-live-p95', Math.round(quantile(latencies, 0.95) * 10) / 10, 'ms');
  } finally {
    for (const p of processes) await p.stop();
    await discord.close();
    await github.close();
    await database.drop();
  }
}

interface BotProcess {
  /** The HTTP URL, once the process logged "recap-bot is running". */
  running: Promise<string>;
  stop(): Promise<void>;
}

/** `node --import tsx src/main.ts`, as `npm start` runs it. */
function startBotProcess(env: Record<string, string>, started: BotProcess[]): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const running = new Promise<string>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        output = `${output}${line}\n`.slice(-4_000);
        const url = line.includes('"recap-bot is running"') ? (JSON.parse(line) as { http?: unknown }).http : undefined;
        if (typeof url === 'string') resolve(url);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output = `${output}${chunk}`.slice(-4_000);
    });
    void exited.then((code) => reject(new Error(`a bot process exited with ${String(code)} before it was running:\n${output}`)));
  });
  const bot: BotProcess = {
    running,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  started.push(bot);
  return bot;
}

/** A fresh database on the server (dropped by `drop`), or why there is none. */
async function throwawayDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> } | string> {
  const name = `recap_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

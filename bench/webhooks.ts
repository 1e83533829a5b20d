/**
 * `npm run bench -- webhooks [--requests 2000] [--replays 200] [--heads 100]`
 *
 * Per-config webhooks under attack: what strangers and a hostile guild
 * admin can make the bot do. Unknown ids (distinct, and one id repeated):
 * answers per second and database look-ups; a replay flood and a flood of
 * forged new heads through an admin's own hook: GitHub requests and
 * refreshes; and the answer time of a genuine delivery.
 *
 * Everything real: the webhook route over HTTP on 127.0.0.1, embedded
 * PGlite, the vault, the GitHub emulator (which counts every request).
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Webhooks } from '@octokit/webhooks';
import { loadConfig } from '../src/config/env.ts';
import { Secret } from '../src/config/secret.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createHttpServer } from '../src/http/server.ts';
import { createInvalidationBus } from '../src/invalidation/bus.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { createPromptEngine } from '../src/prompts/engine.ts';
import { noPromptMetrics } from '../src/prompts/metrics.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { Keyring } from '../src/vault/keyring.ts';
import { loadSodium } from '../src/vault/sodium.ts';
import { Vault } from '../src/vault/vault.ts';
import { ConfigHookStore } from '../src/webhooks/config-hooks.ts';
import { CONFIG_WEBHOOK_PREFIX, mountGithubWebhook } from '../src/webhooks/github-route.ts';
import { GitHubEmulator } from '../tests/emulators/github/server.ts';
import { quantile, report } from './_report.ts';

/** Counts what reaches the database: the figure the unknown-id cache exists to keep down. */
class CountingHookStore extends ConfigHookStore {
  lookups = 0;
  override secretFor(hookId: string): ReturnType<ConfigHookStore['secretFor']> {
    this.lookups += 1;
    return super.secretFor(hookId);
  }
}

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive whole number`);
  return value;
}

const FILES = (marker: string): Record<string, string> => ({
  PATH: 'version: v1\nroutes:\n  default: "prompts/default.md"\n',
  'prompts/default.md': `Summarize ${marker}.\n{messages}\n`,
});

export async function run(args: string[]): Promise<void> {
  const requests = option(args, 'requests', 2_000);
  const replays = option(args, 'replays', 200);
  const heads = option(args, 'heads', 100);
  const logger = createLogger({ level: 'silent', format: 'json' });
  const github = new GitHubEmulator({ quota: { anonymous: 10_000_000, authenticated: 10_000_000 } });
  const emulator = await github.start();
  const database = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create() });
  await migrateToLatest(database.db);
  const config = loadConfig({ GITHUB_API_URL: emulator.baseUrl });
  const vault = new Vault(database.db, await loadSodium(), Keyring.parse(new Secret(`b1:${randomBytes(32).toString('base64')}`)));
  const bus = await createInvalidationBus(database, logger);
  const engine = createPromptEngine({
    config,
    db: database.db,
    vault,
    logger,
    clock: systemClock,
    metrics: noPromptMetrics,
    bundled: (await loadLocalRepo('prompts')).repo,
    announce: (event) => bus.publish(event),
  });
  const http = createHttpServer(logger);
  const hooks = new CountingHookStore(database.db, vault);
  const webhooks = mountGithubWebhook(http, { secret: undefined, hooks, db: database.db, engine, metrics: createMetricsRegistry({ defaultMetrics: false }), logger, clock: systemClock });
  const { url } = await http.listen(0, '127.0.0.1');

  try {
    const base = github.createRepo('acme/bench', { files: FILES('v0') }) as string;
    const inspected = await engine.inspect({ guildId: 'bench-guild', repoUrl: 'https://github.com/acme/bench' });
    if (!inspected.ok) throw new Error(inspected.message);
    await engine.saveConfig({ ...inspected.config, actorId: 'bench' });
    const issued = await hooks.issue('bench-guild', 'bench', new Date());
    const signer = new Webhooks({ secret: issued.secret.reveal() });
    const path = `${CONFIG_WEBHOOK_PREFIX}${issued.hookId}`;

    const post = async (target: string, body: string, signature: string): Promise<number> => {
      const res = await fetch(`${url}${target}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomBytes(16).toString('hex'), 'x-hub-signature-256': signature },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    };
    const inBatches = async (count: number, one: (i: number) => Promise<number>): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < count; i += 16) statuses.push(...(await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => one(i + j)))));
      return statuses;
    };
    const pushBody = (after: string, before: string): string =>
      JSON.stringify({ ref: 'refs/heads/main', before, after, repository: { name: 'bench', full_name: 'acme/bench', owner: { login: 'acme' } } });

    // Strangers: a signature that cannot verify, to ids that do not exist.
    const strangerBody = pushBody('a'.repeat(40), base);
    const strangerSig = await new Webhooks({ secret: 'guessed' }).sign(strangerBody);
    hooks.lookups = 0;
    let started = performance.now();
    const distinct = await inBatches(requests, () => post(`${CONFIG_WEBHOOK_PREFIX}${randomBytes(16).toString('base64url')}`, strangerBody, strangerSig));
    report('webhooks-unknown-distinct-ids-per-sec', (requests / (performance.now() - started)) * 1000, 'req/s');
    report('webhooks-unknown-distinct-ids-refused', distinct.filter((s) => s === 401 || s === 429).length, `of ${requests}`);
    report('webhooks-unknown-distinct-ids-db-lookups', hooks.lookups, 'lookups');
    hooks.lookups = 0;
    const repeated = `${CONFIG_WEBHOOK_PREFIX}${randomBytes(16).toString('base64url')}`;
    started = performance.now();
    await inBatches(requests, () => post(repeated, strangerBody, strangerSig));
    report('webhooks-unknown-same-id-per-sec', (requests / (performance.now() - started)) * 1000, 'req/s');
    report('webhooks-unknown-same-id-db-lookups', hooks.lookups, 'lookups');

    // A genuine push through the hook, then the admin replays it under new delivery ids.
    const head = github.push('acme/bench', 'main', FILES('v1'));
    const genuine = pushBody(head, base);
    const genuineSig = await signer.sign(genuine);
    const latencies: number[] = [];
    let t = performance.now();
    await post(path, genuine, genuineSig);
    latencies.push(performance.now() - t);
    await webhooks.drain();
    github.resetStats();
    const old = pushBody(base, randomBytes(20).toString('hex'));
    const oldSig = await signer.sign(old);
    await inBatches(replays, (i) => (i % 2 === 0 ? post(path, genuine, genuineSig) : post(path, old, oldSig)));
    await webhooks.drain();
    await engine.settle();
    report('webhooks-replay-flood-github-requests', github.count(), `requests for ${replays} replays`);

    // Forged new heads (random shas) as fast as the admin can sign them: refreshes stay one per interval.
    github.resetStats();
    const forged = await Promise.all(Array.from({ length: heads }, async () => {
      const body = pushBody(randomBytes(20).toString('hex'), randomBytes(20).toString('hex'));
      return { body, sig: await signer.sign(body) };
    }));
    await inBatches(heads, (i) => {
      const { body, sig } = forged[i] as { body: string; sig: string };
      return post(path, body, sig);
    });
    await webhooks.drain();
    await engine.settle();
    report('webhooks-forged-heads-tarballs', github.count('tarball'), `downloads for ${heads} pushes`);
    report('webhooks-forged-heads-github-requests', github.count(), 'requests');

    // The answer time of genuine deliveries, one at a time (the work itself is queued after the answer).
    for (let i = 0; i < 20; i += 1) {
      const body = pushBody(github.push('acme/bench', 'main', FILES(`v${i + 2}`)), randomBytes(20).toString('hex'));
      const sig = await signer.sign(body);
      t = performance.now();
      await post(path, body, sig);
      latencies.push(performance.now() - t);
    }
    await webhooks.drain();
    report('webhooks-hook-delivery-p50', quantile(latencies, 0.5), 'ms');
    report('webhooks-hook-delivery-p99', quantile(latencies, 0.99), 'ms');
  } finally {
    await http.close();
    await webhooks.close();
    await engine.settle();
    await bus.close();
    await database.close();
    await emulator.close();
  }
}

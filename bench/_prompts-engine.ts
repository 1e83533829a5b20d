/**
 * The real prompt engine for the prompt benchmarks: the same composition as
 * the app (createPromptEngine over a migrated database, the bundled prompts,
 * prom-client metrics), pointed at a GitHub emulator.
 */
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../src/config/env.ts';
import { Secret } from '../src/config/secret.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger, type Logger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { loadLocalRepo } from '../src/prompts/bundled.ts';
import { createPromptEngine, type PromptEngine } from '../src/prompts/engine.ts';
import { createPromptMetrics } from '../src/prompts/metrics.ts';
import type { ParsedRepo } from '../src/prompts/parsed.ts';
import type { Clock } from '../src/resilience/clock.ts';
import { Keyring } from '../src/vault/keyring.ts';
import { loadSodium } from '../src/vault/sodium.ts';
import { Vault } from '../src/vault/vault.ts';

export const silentLogger: Logger = createLogger({ level: 'silent', format: 'json' });

/** A throwaway master key: the benchmarks store no secrets, but the vault needs one. */
const BENCH_MASTER_KEYS = `bench1:${Buffer.alloc(32, 7).toString('base64')}`;

/** An embedded PGlite in memory, migrated to the latest schema. */
export async function openMemoryDatabase(): Promise<DatabaseHandle> {
  const pglite = await PGlite.create();
  const handle = await openDatabase({ dataDir: '', poolMax: 1, logger: silentLogger, pglite });
  try {
    await migrateToLatest(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * Closes the database once the writes already issued have run. The snapshot
 * cache writes its fetch log without waiting (settle() does not cover it),
 * and closing PGlite while a query is pending never returns (it spins), so a
 * query queued behind them drains the single connection first.
 */
export async function closeDatabase(handle: DatabaseHandle): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await handle.ping();
  await handle.close();
}

/** The bundled `prompts/` repo, the level the engine falls back to. */
export async function loadBundled(): Promise<ParsedRepo | null> {
  return (await loadLocalRepo('prompts')).repo;
}

export interface BenchEngineOptions {
  apiUrl: string;
  clock: Clock;
  bundled: ParsedRepo | null;
  /** Environment overrides (PROMPT_CACHE_TTL, GITHUB_REFRESH_BUDGET_MS…); defaults are the app's. */
  env?: Record<string, string>;
}

export async function buildBenchEngine(database: DatabaseHandle, options: BenchEngineOptions): Promise<PromptEngine> {
  const config = loadConfig({ GITHUB_API_URL: options.apiUrl, ...options.env });
  const vault = new Vault(database.db, await loadSodium(), Keyring.parse(new Secret(BENCH_MASTER_KEYS)));
  return createPromptEngine({
    config,
    db: database.db,
    vault,
    logger: silentLogger,
    clock: options.clock,
    metrics: createPromptMetrics(createMetricsRegistry({ defaultMetrics: false })),
    bundled: options.bundled,
  });
}

/**
 * Configures a guild the way `/prompt-config set` does: the repository is
 * read first (which fetches and persists its snapshot), then the config is
 * saved. Fails when the repository is not valid.
 */
export async function configureGuild(engine: PromptEngine, guildId: string, repo: string, branch = 'main'): Promise<void> {
  const inspected = await engine.inspect({ guildId, repoUrl: `https://github.com/${repo}`, branch });
  if (!inspected.ok) throw new Error(`${repo}: ${inspected.message}`);
  if (!inspected.report.ok) {
    const problems = inspected.report.problems.map((p) => `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.message}`);
    throw new Error(`${repo} is not a usable prompt repository: ${inspected.report.error ?? problems.join('; ')}`);
  }
  await engine.saveConfig({ ...inspected.config, actorId: 'bench' });
}

/**
 * Saves a guild's config without reading the repository, as configs already
 * in the database are found by a process that has no snapshot yet.
 */
export async function saveGuildConfig(engine: PromptEngine, apiUrl: string, guildId: string, repo: string, branch = 'main'): Promise<void> {
  const [owner = '', name = ''] = repo.split('/');
  await engine.saveConfig({ guildId, repoUrl: `https://github.com/${repo}`, apiBaseUrl: apiUrl, owner, repo: name, branch, actorId: 'bench' });
}

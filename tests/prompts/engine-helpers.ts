import { afterEach } from 'vitest';
import { loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import type { InvalidationEvent } from '../../src/invalidation/events.ts';
import { loadLocalRepo } from '../../src/prompts/bundled.ts';
import { createPromptEngine, type PromptEngine } from '../../src/prompts/engine.ts';
import { createPromptMetrics } from '../../src/prompts/metrics.ts';
import type { ParsedRepo } from '../../src/prompts/parsed.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import type { Clock } from '../../src/resilience/clock.ts';
import { Secret } from '../../src/config/secret.ts';
import { Keyring } from '../../src/vault/keyring.ts';
import { loadSodium } from '../../src/vault/sodium.ts';
import { Vault } from '../../src/vault/vault.ts';
import type { TestDatabase } from '../helpers/databases.ts';
import { silentLogger } from '../helpers/databases.ts';
import { useGitHubOnClock, type GitHubOnClock } from '../helpers/github-on-clock.ts';

export const TEST_MASTER_KEYS = `t1:${Buffer.alloc(32, 9).toString('base64')}`;

let bundledRepo: ParsedRepo | null | undefined;

export async function bundled(): Promise<ParsedRepo | null> {
  if (bundledRepo === undefined) bundledRepo = (await loadLocalRepo('prompts')).repo;
  return bundledRepo;
}

export interface EngineUnderTest {
  engine: PromptEngine;
  vault: Vault;
  registry: ReturnType<typeof createMetricsRegistry>;
}

/** The real prompt engine over a test database, pointed at the GitHub emulator. */
export async function buildEngine(
  database: DatabaseHandle,
  options: {
    apiUrl: string;
    clock: Clock;
    env?: Record<string, string>;
    bundled?: ParsedRepo | null;
    /** Where the engine's announcements go (the invalidation bus in the app). */
    announce?: (event: InvalidationEvent) => Promise<void>;
  },
): Promise<EngineUnderTest> {
  const config = loadConfig({ GITHUB_API_URL: options.apiUrl, GITHUB_REQUEST_TIMEOUT_MS: '1000', GITHUB_REFRESH_BUDGET_MS: '1500', PROMPT_REFRESH_BUDGET: '5s', ...options.env });
  const vault = new Vault(database.db, await loadSodium(), Keyring.parse(new Secret(TEST_MASTER_KEYS)));
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const engine = createPromptEngine({
    config,
    db: database.db,
    vault,
    logger: silentLogger,
    clock: options.clock,
    metrics: createPromptMetrics(registry),
    bundled: options.bundled === undefined ? await bundled() : options.bundled,
    ...(options.announce === undefined ? {} : { announce: options.announce }),
  });
  return { engine, vault, registry };
}

/** A small valid prompt repo (YAML v1 as the reference bot writes them). */
export function promptRepoFiles(marker: string): Record<string, string> {
  return {
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
    'prompts/discussion/default.md': `${marker}: summarize #{channel} as a {type} summary for {perspective} readers.\n\n{messages}\n`,
    'prompts/meeting/standup.md': `${marker} standup notes for {guild_name}.\n{messages}\n`,
  };
}

/**
 * Saves `repo` as a guild's prompt repository, as an admin's /prompt-config
 * set does: inspect, then save. Throws with the engine's reason when the
 * repository is refused; returns the inspection's report.
 */
export async function configureGuild(
  engine: PromptEngine,
  guildId: string,
  repo: string,
  options: { branch?: string } = {},
): Promise<Extract<Awaited<ReturnType<PromptEngine['inspect']>>, { ok: true }>['report']> {
  const inspected = await engine.inspect({ guildId, repoUrl: `https://github.com/${repo}`, ...(options.branch ? { branch: options.branch } : {}) });
  if (!inspected.ok) throw new Error(inspected.message);
  await engine.saveConfig({ ...inspected.config, actorId: 'admin' });
  return inspected.report;
}

/** A suite's engine that a test can restart (a fresh process over the same database), on the GitHub emulator. */
export interface RestartableEngine {
  readonly server: GitHubOnClock;
  /** The engine of the last restart; read it after `restart()`. */
  readonly under: EngineUnderTest;
  readonly engine: PromptEngine;
  /** A fresh engine (empty memory) over the suite's database, as after a restart. */
  restart(env?: Record<string, string>, options?: { announce?: (event: InvalidationEvent) => Promise<void>; bundled?: ParsedRepo | null }): Promise<void>;
}

/**
 * Registers the suite's emulator and its after-test settle; call it first in
 * the suite. `env` is the suite's own settings, under each restart's.
 */
export function useRestartableEngine(database: () => TestDatabase, startsAt: string, env: Record<string, string> = {}): RestartableEngine {
  const server = useGitHubOnClock(startsAt);
  let current: EngineUnderTest | undefined;
  afterEach(async () => {
    await current?.engine.settle();
  });
  const under = (): EngineUnderTest => {
    if (current === undefined) throw new Error('call restart() first');
    return current;
  };
  return {
    server,
    get under() {
      return under();
    },
    get engine() {
      return under().engine;
    },
    async restart(more = {}, options = {}) {
      current = await buildEngine(database().handle, { apiUrl: server.baseUrl, clock: server.clock, env: { ...env, ...more }, ...options });
    },
  };
}

import { loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
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
import { silentLogger } from '../helpers/databases.ts';

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
  options: { apiUrl: string; clock: Clock; env?: Record<string, string>; bundled?: ParsedRepo | null },
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
  await engine.configs.save({ ...inspected.config, actorId: 'admin' });
  return inspected.report;
}

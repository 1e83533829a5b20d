/**
 * A real language-model service for tests: the repository's plugins loaded
 * by the plugin host, the real Anthropic SDK and fetch talking to the LLM
 * emulators on 127.0.0.1, a real database and a real vault. Only time is
 * injected (a manual clock, and backoff waits that advance it), so retries
 * and budgets are deterministic without sleeping.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { Secret } from '../../src/config/secret.ts';
import type { Database } from '../../src/db/schema.ts';
import { createLlmService, type LlmService } from '../../src/llm/service.ts';
import type { Environment } from '../../src/llm/plugin-host/env-substitution.ts';
import type { CallContext, PluginLogger } from '../../src/llm/plugin-host/types.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import type { TaskRequest } from '../../src/llm/router/types.ts';
import { Keyring } from '../../src/vault/keyring.ts';
import { loadSodium } from '../../src/vault/sodium.ts';
import { Vault } from '../../src/vault/vault.ts';
import type { AdminNotices } from '../../src/notices/admin-notice.ts';

/** Noon UTC, so "today" and the next reset are easy to read in assertions. */
export const NOON = Date.UTC(2025, 5, 1, 12, 0, 0);
export const NEXT_MIDNIGHT_ISO = '2025-06-02T00:00:00.000Z';

/** A vault over the test database with a fixed key. */
export async function createVault(db: Kysely<Database>): Promise<Vault> {
  const keyring = Keyring.parse(new Secret(`t1:${Buffer.alloc(32, 7).toString('base64')}`));
  return new Vault(db, await loadSodium(), keyring);
}

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

export class MemoryLogger implements PluginLogger {
  readonly entries: LogEntry[] = [];
  readonly debug = this.at('debug');
  readonly info = this.at('info');
  readonly warn = this.at('warn');
  readonly error = this.at('error');

  private at(level: string) {
    return (obj: object, msg?: string): void => {
      this.entries.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
    };
  }

  /** Everything logged, as one string, to check that no secret ever got in. */
  text(): string {
    return JSON.stringify(this.entries);
  }
}

export interface TestService {
  service: LlmService;
  clock: ManualClock;
  metrics: Registry;
  logger: MemoryLogger;
  /** Backoff waits the router asked for, in ms (the clock was advanced by each). */
  waits: number[];
  /** The PLUGINS_CONFIG file, when one was given (rewrite it and reload). */
  configPath: string | undefined;
  close(): Promise<void>;
}

export async function startService(options: {
  db: Kysely<Database>;
  vault: Vault;
  env: Environment;
  /** YAML for PLUGINS_CONFIG; omitted means the built-in defaults. */
  config?: string;
  clock?: ManualClock;
  notices?: AdminNotices;
}): Promise<TestService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'llm-service-'));
  let configPath: string | undefined;
  if (options.config !== undefined) {
    configPath = path.join(dir, 'plugins.yaml');
    await writeFile(configPath, options.config);
  }
  const clock = options.clock ?? new ManualClock(NOON);
  const metrics = new Registry();
  const logger = new MemoryLogger();
  const waits: number[] = [];
  const service = await createLlmService({
    env: options.env,
    db: options.db,
    vault: options.vault,
    logger,
    metrics,
    clock,
    ...(configPath !== undefined ? { configPath } : {}),
    displayRoot: dir,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    },
    // Written at once, so each test can read its rows right after a flush.
    usageBatch: { size: 1_000, intervalMs: 10 },
    notices: options.notices,
  });
  return {
    service,
    clock,
    metrics,
    logger,
    waits,
    configPath,
    async close() {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function ctx(guildId: string | undefined, userId = 'user-1', task: CallContext['task'] = 'summarize'): CallContext {
  return {
    task,
    ...(guildId !== undefined ? { guildId } : {}),
    userId,
    correlationId: `test-${randomUUID()}`,
  };
}

export function ask(content: string, maxTokens = 200): TaskRequest {
  return { system: 'Summarize the conversation.', turns: [{ role: 'user', content }], maxTokens };
}

export interface CallRow {
  guild_id: string | null;
  user_id: string | null;
  task: string;
  provider: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  outcome: string;
  key_source: string;
  correlation_id: string;
}

export async function rowsFor(db: Kysely<Database>, correlationId: string): Promise<CallRow[]> {
  return db
    .selectFrom('llm_calls')
    .select(['guild_id', 'user_id', 'task', 'provider', 'model', 'input_tokens', 'output_tokens', 'cost_usd', 'outcome', 'key_source', 'correlation_id'])
    .where('correlation_id', '=', correlationId)
    .execute();
}

/** Runs `work` and returns what it threw (failing the test when it did not throw). */
export async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`threw a non-Error: ${String(err)}`);
  }
  throw new Error('expected a failure, but the call succeeded');
}

export function newGuild(): string {
  return `g-${randomUUID().slice(0, 8)}`;
}

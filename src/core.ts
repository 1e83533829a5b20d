/**
 * The parts the service and the command line share, built in one place: the
 * vault, the prompt engine, the plugins with the router (the LLM service),
 * the summarizer and chat. Callers decide the database and add their own
 * surfaces: src/app.ts adds HTTP, webhooks and Discord; the CLI summarizes
 * one export. Nothing here opens a database: a caller with none gets parts
 * that keep nothing (see db/detached.ts), and no PGlite or Postgres starts.
 */
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Config } from './config/env.ts';
import type { DatabaseHandle } from './db/database.ts';
import { detachedDb } from './db/detached.ts';
import type { Database } from './db/schema.ts';
import { createChat, type Chat } from './chat/chat.ts';
import type { InvalidationEvent } from './invalidation/events.ts';
import type { Environment } from './llm/plugin-host/env-substitution.ts';
import { createLlmService, type LlmService } from './llm/service.ts';
import type { Logger } from './log/logger.ts';
import { loadLocalRepo } from './prompts/bundled.ts';
import { createPromptEngine, promptLimitsFrom, type PromptEngine } from './prompts/engine.ts';
import { noPromptMetrics, type PromptMetrics } from './prompts/metrics.ts';
import type { ParsedRepo } from './prompts/parsed.ts';
import { formatProblem } from './prompts/problems.ts';
import type { PromptResolver } from './prompts/resolver.ts';
import type { Clock } from './resilience/clock.ts';
import { ProcessSummaryStore } from './summaries/process-store.ts';
import { KyselyChatMemoryStore, KyselySummaryStore } from './summaries/store.ts';
import { createSummarizer, type Summarizer } from './summaries/summarize.ts';
import type { Keyring } from './vault/keyring.ts';
import { loadSodium } from './vault/sodium.ts';
import { Vault } from './vault/vault.ts';
import type { AdminNotices } from './notices/admin-notice.ts';

export interface CoreDeps {
  config: Config;
  logger: Logger;
  /** RECAP_MASTER_KEYS parsed (see keyringFrom); callers parse it first, so a bad key fails before any database opens. */
  keyring: Keyring | undefined;
  /** Plugin settings and operator keys (PLUGINS_CONFIG, ANTHROPIC_API_KEY, …). */
  env: Environment;
  /**
   * Where guild settings, keys, usage and summaries live. Absent: nowhere;
   * every part starts as on an empty database and keeps nothing past this
   * process (summaries only in memory).
   */
  database?: DatabaseHandle | undefined;
  metrics: Registry;
  clock: Clock;
  /** Default: none recorded. */
  promptMetrics?: PromptMetrics | undefined;
  /** Tells the other processes of a deployment what changed; absent in a single tool process. */
  announce?: ((event: InvalidationEvent) => Promise<void>) | undefined;
  /** Repositories whose webhooks recently reached this deployment (the service reads them at start). */
  webhookRepos?: ReadonlyArray<{ owner: string; repo: string; at: number }> | undefined;
  /** Where the parts' admin notices go (the service's notices sink); absent: nowhere. */
  notices?: AdminNotices | undefined;
  /** Answers prompts with this resolver instead of the engine's (the CLI's `--prompts`); gets the bundled prompts. */
  resolver?: ((bundled: ParsedRepo | null) => PromptResolver) | undefined;
  /** Restricts requests without a guild to these providers, in this order (the CLI's `--provider`). */
  providerOrder?: readonly string[] | undefined;
}

export interface Core {
  /** The database the parts work on: the caller's, or a detached one that keeps nothing. */
  db: Kysely<Database>;
  vault: Vault;
  prompts: PromptEngine;
  llm: LlmService;
  summarizer: Summarizer;
  chat: Chat;
}

export async function createCore(deps: CoreDeps): Promise<Core> {
  const { config, logger, clock } = deps;
  const db = deps.database?.db ?? detachedDb();
  const vault = new Vault(db, await loadSodium(), deps.keyring);
  const bundled = await loadLocalRepo(config.prompts.dir, promptLimitsFrom(config));
  if (bundled.repo === null) {
    logger.error(
      { problems: bundled.problems.slice(0, 5).map(formatProblem) },
      `the bundled prompts in ${config.prompts.dir} are invalid; requests without a guild repo use the compiled-in fallback`,
    );
  }
  const prompts = createPromptEngine({
    ...(deps.announce === undefined ? {} : { announce: deps.announce }),
    ...(deps.webhookRepos === undefined ? {} : { webhookRepos: deps.webhookRepos }),
    ...(deps.notices === undefined ? {} : { notices: deps.notices }),
    config,
    db,
    vault,
    logger,
    clock,
    metrics: deps.promptMetrics ?? noPromptMetrics,
    bundled: bundled.repo,
  });
  const resolver = deps.resolver?.(bundled.repo) ?? prompts.resolver;
  const llm = await createLlmService({
    env: deps.env,
    db,
    vault,
    logger,
    metrics: deps.metrics,
    clock,
    providerOrder: deps.providerOrder,
    sharedState: deps.database?.kind === 'postgres' ? 'postgres' : 'process',
    notices: deps.notices,
  });
  const summarizer = createSummarizer({
    resolver,
    router: llm.router,
    contextWindowFor: (task, guildId) => llm.contextWindowFor(task, guildId),
    store: deps.database === undefined ? new ProcessSummaryStore() : new KyselySummaryStore(db),
    standing: (task, guildId) => llm.targetStanding(task, guildId),
    clock,
    logger,
  });
  const chat = createChat({ resolver, router: llm.router, memory: new KyselyChatMemoryStore(db), clock, logger });
  return { db, vault, prompts, llm, summarizer, chat };
}

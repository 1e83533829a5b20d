import { environmentWithDotenv } from '../config/env.ts';
import { createCore } from '../core.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { createMetricsRegistry } from '../metrics/registry.ts';
import { fixedRepoResolver, loadFixedRepo, RepoSpecError, type FixedRepo } from '../prompts/fixed-repo.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import type { ParsedRepo } from '../prompts/parsed.ts';
import { routedCategories } from '../prompts/routed-values.ts';
import { describeProblems } from '../prompts/snapshot-cache.ts';
import { systemClock } from '../resilience/clock.ts';
import { keyringFrom } from '../vault/keyring.ts';
import type { Summarizer } from '../summaries/summarize.ts';
import { UsageError, type CliContext } from './command.ts';
import { createCliLogger, loadCliConfig } from './cli-config.ts';

export interface EngineRuntimeOptions {
  /** A prompt repository: a local folder, or a GitHub URL. Absent: the guild's repo if configured, else the bundled prompts. */
  prompts?: string | undefined;
  /** Send every call to this provider only (e.g. `local` for an offline summary). */
  provider?: string | undefined;
}

export interface EngineRuntime {
  summarizer: Summarizer;
  /**
   * Whether the prompts this run uses route `category` (a route segment): the
   * `--prompts` repository when given, else the guild's, else the bundled ones.
   */
  routesCategory(category: string, guildId: string | undefined): Promise<boolean>;
  /** Closes what `buildEngine` opened (database, plugins). */
  close(): Promise<void>;
}

export type BuildEngine = (ctx: CliContext, options: EngineRuntimeOptions) => Promise<EngineRuntime>;

/**
 * The summarizer as `recap summarize` uses it: the service's parts (see
 * core.ts) on whatever the environment configures. With DATABASE_URL it
 * shares the service's database: guild prompt repos, keys and earlier
 * summaries. Without it, no database is opened at all: an export's summary
 * keeps nothing worth keeping, so the run starts as on an empty database
 * (the bundled prompts and the offline `local` provider on a fresh machine),
 * never touches the service's embedded directory, and runs beside `npm start`.
 */
export const buildEngine: BuildEngine = async (ctx, options) => {
  const config = loadCliConfig(ctx);
  const logger = createCliLogger(config, ctx);
  const keyring = keyringFrom(config);
  const fixed = options.prompts === undefined ? undefined : await loadPromptsOption(ctx, options.prompts, config.github.apiUrl);
  let database: DatabaseHandle | undefined;
  if (config.database.url !== undefined) {
    // Loaded only here: the embedded database's code is not needed for a run without one.
    const { openCliDatabase } = await import('./runtime.ts');
    database = await openCliDatabase(config, logger, { migrate: true });
  }
  const closers: Array<() => Promise<void>> = database === undefined ? [] : [() => database.close()];
  const close = async (): Promise<void> => {
    for (const step of closers.reverse()) await step().catch(() => undefined);
  };
  try {
    const core = await createCore({
      config,
      logger,
      keyring,
      env: environmentWithDotenv(ctx.env, ctx.cwd),
      database,
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      clock: systemClock,
      ...(fixed === undefined ? {} : { resolver: (bundled) => fixedRepoResolver(fixed, bundled) }),
      ...(options.provider === undefined ? {} : { providerOrder: [options.provider] }),
    });
    closers.push(() => core.llm.close());
    if (options.provider !== undefined && !core.llm.enabledProviders().includes(options.provider)) {
      throw new UsageError(`--provider: "${options.provider}" is not an enabled provider; enabled: ${core.llm.enabledProviders().join(', ') || 'none'}`);
    }
    const routesCategory = async (category: string, guildId: string | undefined): Promise<boolean> => {
      const repo = fixed !== undefined ? fixed.repo : guildId === undefined ? null : await guildRepo(core.prompts, guildId, logger);
      return routedCategories(repo).includes(category);
    };
    return { summarizer: core.summarizer, routesCategory, close };
  } catch (error) {
    await close();
    throw error;
  }
};

/** A person waits at a terminal: the shared snapshot store may take this long before the bundled prompts' categories count. */
const SNAPSHOT_WAIT_MS = 3_000;

/**
 * The guild's enabled repository as the service last stored it (never fetched
 * from GitHub here), or null. A store that cannot be read must not stop the
 * summary: it then counts as no repository.
 */
async function guildRepo(prompts: PromptEngine, guildId: string, logger: Logger): Promise<ParsedRepo | null> {
  try {
    const held = await prompts.heldSnapshot(guildId, { storeWaitMs: SNAPSHOT_WAIT_MS });
    return held !== null && held.config.enabled ? held.parsed : null;
  } catch (error) {
    logger.warn({ err: error }, 'could not read the guild prompt repository; the export category is checked against the default categories');
    return null;
  }
}

async function loadPromptsOption(ctx: CliContext, spec: string, apiUrl: string): Promise<FixedRepo> {
  let fixed;
  try {
    fixed = await loadFixedRepo(spec, {
      cwd: ctx.cwd,
      apiUrl,
      ...(ctx.env.GITHUB_TOKEN?.trim() ? { token: ctx.env.GITHUB_TOKEN.trim() } : {}),
    });
  } catch (error) {
    if (error instanceof RepoSpecError) throw new UsageError(`--prompts: ${error.message}`);
    throw error;
  }
  if (fixed.repo === null) {
    ctx.stderr.write(`warning: --prompts ${spec} cannot be used (${fixed.error || describeProblems(fixed.problems)}); using the bundled prompts\n`);
  }
  return fixed;
}

import { environmentWithDotenv } from '../config/env.ts';
import { KyselySummaryStore } from '../summaries/store.ts';
import { createSummarizer } from '../summaries/summarize.ts';
import type { BuildEngine } from '../summaries/runtime.ts';
import { createLlmService } from '../llm/service.ts';
import { createMetricsRegistry } from '../metrics/registry.ts';
import { loadLocalRepo } from '../prompts/bundled.ts';
import { createPromptEngine, promptLimitsFrom } from '../prompts/engine.ts';
import { fixedRepoResolver, loadFixedRepo, RepoSpecError } from '../prompts/fixed-repo.ts';
import { noPromptMetrics } from '../prompts/metrics.ts';
import { describeProblems } from '../prompts/snapshot-cache.ts';
import { systemClock } from '../resilience/clock.ts';
import { Keyring } from '../vault/keyring.ts';
import { loadSodium } from '../vault/sodium.ts';
import { Vault } from '../vault/vault.ts';
import { UsageError } from './command.ts';
import { openCliRuntime } from './runtime.ts';

/**
 * The summarizer as `recap summarize` uses it: the same parts as the bot
 * (database, prompt engine, plugins, router), on whatever the environment
 * configures, which on a fresh machine is an in-memory PGlite (the service's
 * embedded directory is never opened: `npm start` may hold it), the bundled
 * prompts and the offline `local` provider. With DATABASE_URL it shares the
 * service's database: guild prompt repos, keys and earlier summaries.
 */
export const buildEngine: BuildEngine = async (ctx, options) => {
  // An export's summary keeps nothing worth keeping: in memory, so it runs beside `npm start` on the same DATA_DIR.
  const runtime = await openCliRuntime(ctx, { migrate: true, embedded: 'memory' });
  const { config, logger, database } = runtime;
  const closers: Array<() => Promise<void>> = [() => runtime.close()];
  const close = async (): Promise<void> => {
    for (const step of closers.reverse()) await step().catch(() => undefined);
  };
  try {
    const keyring = config.masterKeys === undefined ? undefined : Keyring.parse(config.masterKeys);
    const vault = new Vault(database.db, await loadSodium(), keyring);
    const bundled = (await loadLocalRepo(config.prompts.dir, promptLimitsFrom(config))).repo;
    let resolver;
    if (options.prompts === undefined) {
      resolver = createPromptEngine({ config, db: database.db, vault, logger, clock: systemClock, metrics: noPromptMetrics, bundled }).resolver;
    } else {
      let fixed;
      try {
        fixed = await loadFixedRepo(options.prompts, {
          cwd: ctx.cwd,
          apiUrl: config.github.apiUrl,
          ...(ctx.env.GITHUB_TOKEN?.trim() ? { token: ctx.env.GITHUB_TOKEN.trim() } : {}),
        });
      } catch (error) {
        if (error instanceof RepoSpecError) throw new UsageError(`--prompts: ${error.message}`);
        throw error;
      }
      if (fixed.repo === null) {
        ctx.stderr.write(`warning: --prompts ${options.prompts} cannot be used (${fixed.error || describeProblems(fixed.problems)}); using the bundled prompts\n`);
      }
      resolver = fixedRepoResolver(fixed, bundled);
    }
    const llm = await createLlmService({
      env: environmentWithDotenv(ctx.env, ctx.cwd),
      db: database.db,
      vault,
      logger,
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      clock: systemClock,
      ...(options.provider === undefined ? {} : { providerOrder: [options.provider] }),
    });
    closers.push(() => llm.close());
    if (options.provider !== undefined && !llm.enabledProviders().includes(options.provider)) {
      throw new UsageError(`--provider: "${options.provider}" is not an enabled provider; enabled: ${llm.enabledProviders().join(', ') || 'none'}`);
    }
    const summarizer = createSummarizer({
      resolver,
      router: llm.router,
      contextWindowFor: (task, guildId) => llm.contextWindowFor(task, guildId),
      store: new KyselySummaryStore(database.db),
      standing: (task, guildId) => llm.targetStanding(task, guildId),
      clock: systemClock,
      logger,
    });
    return { summarizer, close };
  } catch (error) {
    await close();
    throw error;
  }
};

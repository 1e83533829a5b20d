/**
 * The running language-model service: the plugin host and the provider
 * router, wired to the database (usage, spend, guild settings), the vault
 * (guilds' own keys), metrics and a background provider health poll.
 *
 * The router handed out is a stable facade. A reload (SIGHUP) swaps the
 * plugin set and rebuilds the router behind the facade from the new set's
 * processors, hooks, timeouts and retries, keeping the breaker bank, the
 * rate limits and the metrics; providers are looked up per call anyway.
 * With `sharedState: 'postgres'` the limits, cooldowns and circuit
 * transitions are shared with the deployment's other processes.
 */
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { Environment } from './plugin-host/env-substitution.ts';
import { PluginHost, type ReloadResult } from './plugin-host/host.ts';
import type { PluginLogger } from './plugin-host/types.ts';
import type { Clock } from '../resilience/clock.ts';
import { BreakerBank, DEFAULT_BREAKER } from './router/breakers.ts';
import { ModelAvailability } from './router/model-availability.ts';
import { DeploymentStats, deploymentId } from './router/deployments.ts';
import { createRouterMetrics, type RouterMetrics } from './router/metrics.ts';
import type { RouterOptions } from './router/options.ts';
import type { PromptBounds } from './router/prompt-bounds.ts';
import type { RoutedTask } from './plugin-host/config-file.ts';
import { createRouter, type Router } from './router/router.ts';
import { createSpendGuard, type SpendGuard } from './router/spend-guard.ts';
import type { ProviderRegistry, Task, UsageSink } from './router/types.ts';
import { createGuildAiSettings, type GuildAiSettingsStore } from './guild-ai-settings.ts';
import { createGuildKeys, type GuildKeys, type KeyVault } from './guild-keys.ts';
import { readLlmEnv } from './llm-env.ts';
import { createProviderHealthBoard } from './provider-health.ts';
import { readProviderSecrets, type ProviderSecrets } from './provider-secrets.ts';
import { createBudgetLedger, type BudgetDay } from './budget-ledger.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';
import { createGuildPlan, largestWindow, smallestWindow } from './target-plan.ts';
import { usageSummary, type UsageSummary } from './usage-summary.ts';
import { createUsageWriter } from './usage-writer.ts';
import { messageOf } from '../log/error-message.ts';
import { LatencyWindow } from './router/latency-window.ts';
import type { SharedTargets } from './router/shared-targets.ts';
import type { SharedLimits } from './router/types.ts';
import { createMemoryLimits, createPostgresLimits } from './shared-state/shared-limits.ts';
import { PostgresTargets } from './shared-state/postgres-targets.ts';
import { guildTargets, processTargets, sharedLatency, sharedTargets, type RouterStatusReport, type TargetStatus } from './router-status.ts';
import { createHookMetrics } from '../hooks/hook-metrics.ts';
import { createPluginHooks, type PluginHooks } from '../hooks/plugin-hooks.ts';
import type { HookEntry } from './plugin-host/plugin-set.ts';
import type { NamedHooks } from './router/types.ts';

/** The repository's plugins folder. */
export const DEFAULT_PLUGINS_DIR = path.resolve(import.meta.dirname, '..', '..', 'plugins');

/** The role of the request processors a guild's `piiRedaction` setting switches. */
const PII_ROLE = 'pii-processor';

interface LlmServiceDeps {
  /** Plugin settings, operator keys, PLUGINS_CONFIG and the LLM_* variables (see llm-env.ts). */
  env: Environment;
  db: Kysely<Database>;
  vault: KeyVault;
  logger: PluginLogger;
  metrics: Registry;
  clock: Clock;
  pluginsDir?: string;
  /** Default: env PLUGINS_CONFIG, else the built-in defaults. */
  configPath?: string;
  /** File names in messages are relative to this; default the working directory. */
  displayRoot?: string;
  random?: () => number;
  /** Backoff waits; tests pass one that advances a manual clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Default 60 s. */
  healthIntervalMs?: number;
  usageBatch?: { size?: number; intervalMs?: number };
  /** Restricts requests without a guild to these providers, in this order (the CLI's `--provider`). */
  providerOrder?: readonly string[] | undefined;
  /** Where admin notices go: the budget's 80% and 100% crossings, and plugins' `ctx.notices` (summary-webhook's "delivery given up"). */
  notices?: AdminNotices | undefined;
  /**
   * Where rate limits, cooldowns and circuit transitions are shared: 'postgres' (every process of the
   * deployment, through `db`) or 'process' (this one only: embedded PGlite, the CLI, tests). Default 'process'.
   */
  sharedState?: 'postgres' | 'process';
  /** How stale the shared target view may be (ms); default 500. */
  sharedTtlMs?: number;
}

/** One target of a task's plan, most preferred first, and whether it could be called now. */
export interface TargetStandingEntry {
  provider: string;
  model: string;
  callable: boolean;
}

export interface LlmService {
  /** Every language-model call goes through this. */
  readonly router: Router;
  /** The plugins' hooks at the summary, chat and prompt hook points. */
  readonly hooks: PluginHooks;
  readonly host: PluginHost;
  readonly settings: GuildAiSettingsStore;
  readonly keys: GuildKeys;
  readonly usage: {
    summary(guildId: string, options?: { days?: number }): Promise<UsageSummary>;
    /** Writes every usage record received so far. */
    flush(): Promise<void>;
    /** Today's budget day for the guild: settled spend, holds in flight, threshold crossings. */
    budgetToday(guildId: string): Promise<BudgetDay>;
  };
  /**
   * The largest context window among the task's targets (for the guild) that could be called now; 0 when none.
   * Until the guild's settings are loaded (any call, or `settings.get`, loads them) it answers with the
   * smallest window of the operator's targets, which fits whatever the guild chose.
   */
  contextWindowFor(task: Task, guildId: string | undefined): number;
  /** Providers of the operator's plan that are loaded, in plan order: what a guild's provider order may name. */
  enabledProviders(): string[];
  /**
   * The task's targets for the guild, most preferred first, each with whether
   * it could be called now: provider loaded, not failing its health check,
   * breaker not open. What the summarizer judges a stored answer's provider by.
   */
  targetStanding(task: Task, guildId: string | undefined): TargetStandingEntry[];
  /** Checks every provider's health now (the poll does it every minute). */
  refreshHealth(): Promise<void>;
  /** SIGHUP: re-reads the plugins config; an invalid one keeps everything as it was. */
  reload(): Promise<ReloadResult>;
  /** Stops polling, closes the plugins, then writes the remaining usage records. */
  close(): Promise<void>;
  /** Every target's circuit, cooldown and recent latency, in this process and across the deployment (`GET /status`). */
  status(): Promise<RouterStatusReport>;
  /** The guild's targets for a task: circuit, cooldown and latency, never another guild's key state. */
  guildStatus(task: Task, guildId: string): TargetStatus[];
}

export async function createLlmService(deps: LlmServiceDeps): Promise<LlmService> {
  const { env, db, logger, clock } = deps;
  const llmEnv = readLlmEnv(env);
  const pluginsDir = deps.pluginsDir ?? DEFAULT_PLUGINS_DIR;
  const hostOptions = {
    pluginsDir,
    env,
    logger,
    ...(deps.configPath !== undefined ? { configPath: deps.configPath } : {}),
    ...(deps.displayRoot !== undefined ? { displayRoot: deps.displayRoot } : {}),
    ...(deps.notices !== undefined ? { notices: deps.notices } : {}),
  };
  const host = await PluginHost.start(hostOptions);
  try {
    let secrets: ProviderSecrets = await readProviderSecrets(hostOptions);
    const health = createProviderHealthBoard(host, logger);
    const registry: ProviderRegistry = {
      getProvider: (name) => host.getProvider(name),
      isHealthy: (name) => health.isHealthy(name),
    };

    const guildPlan = createGuildPlan({
      routerConfig: () => host.router,
      // Only called once routing starts, by which time `settings` exists.
      providerOrder: (guildId) => settings.peek(guildId)?.providerOrder,
      defaultOrder: deps.providerOrder,
    });
    const enabledProviders = (): string[] => guildPlan.plannedProviders().filter((name) => host.getProvider(name) !== undefined);
    const settings = createGuildAiSettings({ db, clock, logger, knownProviders: enabledProviders });

    const keys = createGuildKeys({
      vault: deps.vault,
      db,
      settings,
      secrets: () => secrets,
      enabledProviders,
      clock,
      // Only names a validated plugins config put in a model group reach this.
      deploymentKey: (name) => env[name],
    });
    const writer = createUsageWriter({
      db,
      logger,
      ...(deps.usageBatch?.size !== undefined ? { batchSize: deps.usageBatch.size } : {}),
      ...(deps.usageBatch?.intervalMs !== undefined ? { flushIntervalMs: deps.usageBatch.intervalMs } : {}),
    });
    const ledger = createBudgetLedger({
      db,
      clock,
      logger,
      notices: deps.notices,
      afterPendingWrites: (work) => writer.afterPendingWrites(work),
      budgetFor: async (guildId) => (await settings.get(guildId)).dailyBudgetUsd ?? null,
    });
    const usage: UsageSink = writer;
    // Rates are counted by `limits`, across processes; budgets are reserved in the ledger by the router.
    const spendGuard: SpendGuard = createSpendGuard({ clock });
    const sharedStore = deps.sharedState ?? 'process';
    const limitSettings = { userPerMin: llmEnv.userRatePerMin, guildPerMin: llmEnv.guildRatePerMin };
    const limits: SharedLimits =
      sharedStore === 'postgres' ? createPostgresLimits(db, limitSettings, clock, logger) : createMemoryLimits(limitSettings, clock, logger);
    const postgresTargets =
      sharedStore === 'postgres'
        ? new PostgresTargets({ db, clock, logger, ...(deps.sharedTtlMs !== undefined ? { ttlMs: deps.sharedTtlMs } : {}) })
        : undefined;
    postgresTargets?.start();
    const latency = new LatencyWindow(() => clock.now());
    const baseMetrics: RouterMetrics = createRouterMetrics(deps.metrics);
    const routerMetrics: RouterMetrics = {
      recordCall(sample) {
        if (sample.outcome === 'ok' && sample.provider !== 'none') latency.record(`${sample.provider}/${sample.model}`, sample.durationSeconds * 1000);
        baseMetrics.recordCall(sample);
      },
      watchCircuits: (read) => baseMetrics.watchCircuits(read),
    };
    const breakers = new BreakerBank(DEFAULT_BREAKER, clock, postgresTargets);
    const shared: SharedTargets = breakers.shared;
    const statusSources = { circuits: () => breakers.snapshot(), shared, latency, now: () => clock.now() };
    const hookMetrics = createHookMetrics(deps.metrics);
    const hooks = createPluginHooks({ entries: () => host.hookEntries(), logger, metrics: hookMetrics });
    const availability = new ModelAvailability(clock);
    const deployments = new DeploymentStats();

    const buildRouter = (): Router =>
      createRouter({
        providers: registry,
        plan: guildPlan.plan,
        keys: keys.resolve,
        spendGuard,
        budget: ledger,
        limits,
        usage,
        metrics: routerMetrics,
        processors: host.processors(),
        // Unknown settings (not cached) keep redaction on.
        processorEnabled: (guildId, name) =>
          guildId === undefined || !host.processorHasRole(name, PII_ROLE) || settings.peek(guildId)?.piiRedaction !== false,
        hooks: host.hookEntries().map(namedHooks),
        hookMetrics,
        clock,
        random: deps.random ?? Math.random,
        logger,
        ...(deps.sleep !== undefined ? { sleep: deps.sleep } : {}),
        breakers,
        availability,
        deployments,
        options: routerOptions(host),
      });
    let current = buildRouter();

    // Guild settings are read synchronously by the plan and the processor switch; load them first.
    const warm = async (guildId: string | undefined): Promise<void> => {
      if (guildId === undefined) return;
      // A database failure here surfaces inside the router, which records the call and reports it.
      await settings.get(guildId).catch(() => undefined);
    };
    const router: Router = {
      async generate(request, ctx) {
        await warm(ctx.guildId);
        return current.generate(request, ctx);
      },
      async *stream(request, ctx) {
        await warm(ctx.guildId);
        yield* current.stream(request, ctx);
      },
      circuits: () => current.circuits(),
    };

    void health.refresh();
    health.start(deps.healthIntervalMs ?? 60_000);

    return {
      router,
      hooks,
      host,
      settings,
      keys,
      usage: {
        summary: (guildId, options) => usageSummary(db, clock, guildId, options),
        flush: () => writer.flush(),
        budgetToday: (guildId) => ledger.today(guildId),
      },
      contextWindowFor(task, guildId) {
        if (guildId === undefined || settings.peek(guildId) !== undefined) return largestWindow(guildPlan.plan(task, guildId), registry);
        // The guild's provider order is not known yet: answer with what fits any subset it may have chosen,
        // and load its settings for next time.
        void warm(guildId);
        return smallestWindow(guildPlan.plan(task, undefined), registry);
      },
      enabledProviders,
      targetStanding(task, guildId) {
        const circuits = current.circuits();
        return guildPlan.plan(task, guildId).map((t) => {
          const name = deploymentId(t);
          // Open (not half-open): within its cool-down, when no call reaches the target.
          const open = circuits.some(
            (c) => c.target === name && c.state === 'open' && (c.scope === 'operator' || (guildId !== undefined && c.scope.guildId === guildId)),
          );
          const callable = registry.getProvider(t.provider) !== undefined && registry.isHealthy?.(t.provider) !== false && !open;
          return { provider: t.provider, model: t.model, callable };
        });
      },
      refreshHealth: () => health.refresh(),
      async reload() {
        const result = await host.reload();
        if (!result.ok) return result;
        try {
          secrets = await readProviderSecrets(hostOptions);
        } catch (err) {
          logger.error({ err }, 'provider keys could not be re-read after the reload; keeping the previous map');
        }
        try {
          current = buildRouter();
        } catch (err) {
          logger.error({ err: messageOf(err) }, 'the reloaded router settings are invalid; keeping the previous ones');
        }
        void health.refresh();
        return result;
      },
      async status() {
        await postgresTargets?.refresh();
        let latencyShared: Awaited<ReturnType<typeof sharedLatency>> = [];
        try {
          latencyShared = await sharedLatency(db, clock.now());
        } catch (err) {
          logger.warn({ err: messageOf(err) }, 'shared latency could not be read for the status view');
        }
        return {
          at: new Date(clock.now()).toISOString(),
          process: { pid: process.pid, latencyWindowSeconds: latency.windowSeconds, targets: processTargets(statusSources) },
          shared: { store: sharedStore, latencyWindowSeconds: 900, targets: sharedTargets(statusSources), latencyMs: latencyShared },
        };
      },
      guildStatus(task, guildId) {
        return guildTargets(statusSources, guildPlan.plan(task, guildId), guildId);
      },
      async close() {
        health.stop();
        await postgresTargets?.close();
        await host.close();
        await ledger.drain();
        try {
          await writer.close();
        } catch (err) {
          logger.error({ pending: writer.pending, err }, 'usage records could not be written at shutdown');
        }
      },
    };
  } catch (err) {
    await host.close().catch(() => undefined);
    throw err;
  }
}

/** The plugins config's router section in the router's terms. */
function routerOptions(host: PluginHost): RouterOptions {
  const { timeouts, retry, breaker, strategy } = host.router;
  const promptBounds: PromptBounds = {};
  const choice = host.router.prompt_choice ?? {};
  for (const [task, bounds] of Object.entries(choice) as Array<[Task, (typeof choice)[RoutedTask]]>) {
    if (bounds === undefined) continue;
    promptBounds[task] = {
      allowedModels: bounds.allowed_models,
      maxPricePerMTok: bounds.max_price_per_mtok && { input: bounds.max_price_per_mtok.input, output: bounds.max_price_per_mtok.output },
    };
  }
  return {
    promptBounds,
    strategies: strategy,
    fallbackOn: host.router.fallback_on,
    timeouts: { connectMs: timeouts.connect_ms, firstTokenMs: timeouts.first_token_ms, totalMs: timeouts.total_ms },
    retry: { rounds: retry.max_rounds, baseMs: retry.base_ms, maxMs: retry.max_ms },
    breaker: { failureThreshold: breaker.failure_threshold, failureWindowMs: breaker.failure_window_ms, coolDownMs: breaker.cool_down_ms },
  };
}

/** A plugin's provider-call hooks under its name, for logs and metric labels; the plugin's object is left as it is. */
function namedHooks({ plugin, hooks }: HookEntry): NamedHooks {
  return {
    name: plugin,
    ...(hooks.priority === undefined ? {} : { priority: hooks.priority }),
    ...(hooks.timeoutMs === undefined ? {} : { timeoutMs: hooks.timeoutMs }),
    ...(hooks.beforeCall === undefined ? {} : { beforeCall: hooks.beforeCall.bind(hooks) }),
    ...(hooks.afterCall === undefined ? {} : { afterCall: hooks.afterCall.bind(hooks) }),
  };
}

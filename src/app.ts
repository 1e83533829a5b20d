import type { Registry } from 'prom-client';
import { createCore } from './core.ts';
import { keyringFrom } from './vault/keyring.ts';
import type { Config } from './config/env.ts';
import type { DatabaseHandle } from './db/database.ts';
import { openDatabaseExclusive } from './db/open-exclusive.ts';
import { migrateToLatest } from './db/migrate.ts';
import { mountHealthRoutes } from './http/health-routes.ts';
import { createHttpServer, type HttpServer } from './http/server.ts';
import { mountStatusRoute } from './http/status-route.ts';
import type { Logger } from './log/logger.ts';
import { createMetricsRegistry } from './metrics/registry.ts';
import { WEBHOOK_TRUST_MS } from './prompts/engine.ts';
import { createPromptMetrics } from './prompts/metrics.ts';
import { systemClock, type Clock } from './resilience/clock.ts';
import { startBot, type Bot } from './discord/bot.ts';
import { clientGatewayView, createGatewayReadiness, type GatewayReadiness } from './discord/gateway-readiness.ts';
import { createDiscordMetrics } from './discord/metrics.ts';
import { clientShards } from './sharding/client-shards.ts';
import { processParts, withoutRoutes } from './sharding/process-parts.ts';
import { createMentionChat } from './discord/chat/mention-listener.ts';
import { commands as slashCommands } from './discord/commands/index.ts';
import type { BotServices } from './discord/services.ts';
import { createNoticePoster } from './discord/output/admin-notice-message.ts';
import { watchSummaryDeletions } from './discord/output/summary-deletions.ts';
import { createNoticeSink } from './notices/sink.ts';
import type { PromptEngine } from './prompts/engine.ts';
import type { LlmService } from './llm/service.ts';
import type { Vault } from './vault/vault.ts';
import { createInvalidationBus, type InvalidationBus } from './invalidation/bus.ts';
import { ConfigHookStore } from './webhooks/config-hooks.ts';
import { createGithubAppLinking } from './github-app/linking.ts';
import { recordAudit } from './audit/audit-log.ts';
import { mountGithubAppSetup } from './github-app/setup-route.ts';
import { createGitHubClient } from './prompts/sources/github-http.ts';
import { defaultWebhookOptions, mountGithubWebhook } from './webhooks/github-route.ts';
import { crashOnDeliveryFor } from './webhooks/test-crash-fault.ts';
import { createCorrelationScope, type CorrelationScope } from './process/correlation.ts';
import { recentWebhookRepos } from './webhooks/recent-repos.ts';
import { startDashboard } from './web/dashboard.ts';
import { DurableJobQueue } from './jobs/durable-queue.ts';
import { registerDigestJobs } from './digests/digest-jobs.ts';
import { registerJobPrune } from './jobs/prune.ts';
import { registerSummaryPrune } from './summaries/prune-job.ts';
import { recordSummaryPost } from './summaries/history.ts';
import { createDiscordDigestDelivery } from './discord/digest/deliver.ts';
import { createMemberNames } from './discord/history/member-names.ts';
import { mountApiSurface } from './api/surface.ts';

/**
 * The service's composition root: the shared parts from createCore
 * (src/core.ts, which the CLI uses too) plus what only the service runs:
 * HTTP, webhooks, cross-process invalidation, the GitHub App flow and
 * Discord. Every part gets its dependencies passed in here; nothing reaches
 * for a global.
 */
export interface App {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  vault: Vault;
  metrics: Registry;
  http: HttpServer;
  prompts: PromptEngine;
  llm: LlmService;
  /** Tells the other processes of a deployment what changed (Postgres LISTEN/NOTIFY). */
  bus: InvalidationBus;
  /** Set once `start()` connected to Discord (DISCORD_TOKEN set). */
  bot: Bot | undefined;
  /** The Discord side of /readyz: this process's client, or the shard manager's shards. */
  gateway: GatewayReadiness;
  /** The correlation id of the work running now (process-level error handlers log it). */
  correlation: CorrelationScope;
  /** `url`: where HTTP listens; a shard process (SHARDS) serves no HTTP, and `url` says so. */
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

export interface AppOverrides {
  /** Tests inject an already-open database. */
  database?: DatabaseHandle;
  clock?: Clock;
  /** Where plugins read their settings and operator keys (PLUGINS_CONFIG, ANTHROPIC_API_KEY, …). */
  env?: NodeJS.ProcessEnv;
}

export async function createApp(config: Config, logger: Logger, overrides: AppOverrides = {}): Promise<App> {
  const keyring = keyringFrom(config);
  const database =
    overrides.database ??
    (await openDatabaseExclusive({
      url: config.database.url?.reveal(),
      dataDir: config.dataDir,
      poolMax: config.database.poolMax,
      logger,
    }));
  let started: { llm: { close(): Promise<void> } } | undefined;
  try {
    if (config.database.migrateOnStart) {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    }
    const metrics = createMetricsRegistry();
    const clock = overrides.clock ?? systemClock;
    const bus = await createInvalidationBus(database, logger);
    // Any process with the bot token posts notices over REST (web hosts receive the pushes but hold no gateway).
    const noticePoster = config.discord.token === undefined ? undefined : createNoticePoster(config.discord.token, config.discord.apiUrl);
    const notices = createNoticeSink({ db: database.db, poster: noticePoster, clock, logger });
    const core = await createCore({
      notices,
      config,
      logger,
      keyring,
      env: overrides.env ?? {},
      database,
      metrics,
      clock,
      promptMetrics: createPromptMetrics(metrics),
      announce: (event) => bus.publish(event),
      webhookRepos: await recentWebhookRepos(database.db, new Date(clock.now() - WEBHOOK_TRUST_MS)),
    });
    started = core;
    const { vault, prompts, llm, summarizer, chat } = core;
    if (vault.locked) {
      logger.warn(
        'secret storage is off: RECAP_MASTER_KEYS is not set, so guild tokens and API keys cannot be saved. ' +
          'Generate a key with `npm run recap -- keys generate` and set RECAP_MASTER_KEYS.',
      );
    }
    const discordMetrics = createDiscordMetrics(metrics, slashCommands.map((c) => c.data.name));
    const gateway = createGatewayReadiness();
    const unwireInvalidation = bus.subscribe((event) => prompts.applyRemote(event));
    const http = createHttpServer(logger, {
      maxConnections: config.http.maxConnections,
      bodyBudgetBytes: config.http.bodyBudgetBytes,
      timeoutMs: config.http.timeoutMs,
    });
    mountHealthRoutes(http, { pingDatabase: () => database.ping(), gateway: () => gateway.check(), metrics });
    mountStatusRoute(http, { token: config.http.statusToken, status: () => llm.status() });
    const parts = processParts(config);
    // RECAP_ROLE=shards: the port serves health and metrics; the web hosts take the webhooks.
    const intakeHttp = parts.intake ? http : withoutRoutes(http);
    const configHooks = new ConfigHookStore(database.db, vault);
    const correlation = createCorrelationScope();
    const crashFault = crashOnDeliveryFor(overrides.env?.RECAP_TEST_CRASH_ON_DELIVERY_REPO);
    if (crashFault !== undefined) logger.warn('RECAP_TEST_CRASH_ON_DELIVERY_REPO is set: a test fault crashes this process on some webhook deliveries');
    const webhooks = mountGithubWebhook(intakeHttp, {
      secret: config.github.webhookSecret,
      hooks: configHooks,
      db: database.db,
      engine: prompts,
      metrics,
      logger,
      clock,
      correlation,
      ...(crashFault === undefined ? {} : { wrapProcessor: crashFault }),
      options: {
        maxBodyBytes: config.github.webhookMaxBodyBytes,
        retry: { ...defaultWebhookOptions.retry, maxAttempts: config.github.webhookMaxAttempts },
        leaseMs: config.github.webhookLeaseMs,
      },
    });

    const githubApp = createGithubAppLinking({
      db: database.db,
      config,
      octokit: createGitHubClient({ baseUrl: config.github.apiUrl }),
      clock,
      logger,
    });
    if (githubApp !== undefined) {
      const callback = config.http.publicUrl === undefined ? '<PUBLIC_URL>/github/setup' : new URL('github/setup', config.http.publicUrl.href.replace(/\/?$/, '/')).href;
      logger.info({ callbackUrl: callback }, 'GitHub App install flow on: the App\'s callback URL must be this address, with user authorization during installation');
    }
    if (config.github.app !== undefined && githubApp === undefined) {
      logger.warn(
        'GITHUB_APP_ID is set but GITHUB_APP_SLUG, GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET are not: no App installation can be linked to a server, so the App reads no server\'s repository (public ones are read anonymously).',
      );
    }
    mountGithubAppSetup(intakeHttp, {
      linking: githubApp,
      onLinked: (guildId) => prompts.invalidateGuild(guildId),
      ...(config.http.publicUrl === undefined ? {} : { publicUrl: config.http.publicUrl }),
      audit: (entry) => recordAudit(database.db, entry),
      clock,
      logger,
    });

    // The web dashboard (src/web/): web and all roles only, when DISCORD_CLIENT_ID is set.
    const dashboard =
      parts.listens && config.role !== 'shards'
        ? startDashboard({ env: overrides.env ?? {}, config, http, db: database.db, clock, logger, prompts, llm })
        : undefined;
    // Durable work shared by every process of the deployment (src/jobs/): the API's summaries, digests, prunes.
    // One queue per process; every handler is registered before start().
    const jobs = new DurableJobQueue({ db: database.db, logger, clock });
    // The REST API (/api/v1) and Atom feeds: on the web and all roles only.
    const apiSurface = parts.intake ? mountApiSurface(http, { config, db: database.db, summarizer, jobs, clock, logger }) : undefined;

    const services: BotServices = {
      logger,
      db: database.db,
      vault,
      prompts,
      metrics,
      clock,
      summarizer,
      chat,
      llm,
      webhooks: {
        hooks: configHooks,
        publicUrl: config.http.publicUrl?.href.replace(/\/+$/, ''),
        forgetGuild: (guildId) => webhooks.forgetGuild(guildId),
      },
      ...(githubApp === undefined ? {} : { githubApp }),
      correlation,
      digests: { shardCount: clientShards(config.sharding).shardCount },
      notices,
    };
    registerJobPrune(jobs, { db: database.db, clock });
    registerSummaryPrune(jobs, { db: database.db, clock, logger, retentionDays: config.history.retentionDays });
    const mentionChat = createMentionChat({ services, logger });
    const app: App = {
      config,
      logger,
      database,
      vault,
      metrics,
      http,
      prompts,
      llm,
      bus,
      bot: undefined,
      gateway,
      correlation,
      async start() {
        // What this process runs, by RECAP_ROLE and SHARDS / SHARD_IDS: see src/sharding/process-parts.ts.
        const url = parts.listens ? (await http.listen(config.http.port, config.http.host)).url : 'off (the shard manager serves HTTP)';
        if (parts.intake) webhooks.start();
        if (parts.discord === 'shard-children') {
          // Not ready until the shard processes are: the sharding role watches them here.
          gateway.expect();
          logger.debug('the Discord client runs in the shard processes');
        } else if (parts.discord === 'web-role') {
          if (config.discord.token !== undefined) {
            logger.info('RECAP_ROLE=web never connects to the Discord gateway; DISCORD_TOKEN is used over REST only, by the API and feeds to check who may read what');
          }
        } else if (config.discord.token === undefined) {
          logger.warn(
            'the Discord client is off: DISCORD_TOKEN is not set. Set it (and invite the bot) to serve /summarize in Discord. ' +
              'Meanwhile, summarize a channel export offline with `npm run recap -- summarize examples/sample-export.json`.',
          );
        } else {
          gateway.expect();
          app.bot = await startBot({
            onClient: (client, dispatcher) => {
              gateway.watch(() => clientGatewayView(client));
              discordMetrics.watchShards(() => clientGatewayView(client).shards);
              mentionChat.onClient(client, dispatcher);
              watchSummaryDeletions(client, { db: database.db, logger });
            },
            metrics: discordMetrics,
            token: config.discord.token,
            ...(config.discord.apiUrl === undefined ? {} : { apiUrl: config.discord.apiUrl }),
            ...(config.discord.devGuildId === undefined ? {} : { devGuildId: config.discord.devGuildId }),
            // Once per deployment: the process holding shard 0 registers for every host (web hosts hold no shard).
            registerCommands: config.discord.registerCommands && (config.sharding.role !== 'shard' || config.sharding.ids.includes(0)),
            ...clientShards(config.sharding),
            commands: slashCommands,
            services,
            logger,
          });
          // Digest runs go to the process whose client holds the guild's shard.
          const { shards, shardCount } = clientShards(config.sharding);
          registerDigestJobs(jobs, {
            db: database.db,
            clock,
            logger,
            shards,
            shardCount,
            delivery: createDiscordDigestDelivery({ client: app.bot.client, summarizer, memberNames: createMemberNames(), logger, history: { record: (post) => recordSummaryPost(database.db, post) } }),
            notices,
          });
        }
        jobs.start();
        return { url };
      },
      async stop() {
        await jobs.stop();
        await mentionChat.drain(10_000);
        await app.bot?.stop();
        await http.close();
        await dashboard?.close();
        await webhooks.close();
        await apiSurface?.close();
        await llm.close();
        unwireInvalidation();
        await bus.close();
        await prompts.settle();
        await database.close();
      },
    };
    return app;
  } catch (error) {
    // The router's shared-state timer and the plugins must not outlive a failed start.
    await started?.llm.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw error;
  }
}

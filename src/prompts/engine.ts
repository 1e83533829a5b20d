import type { Kysely } from 'kysely';
import type { Config } from '../config/env.ts';
import type { Database } from '../db/schema.ts';
import type { InvalidationEvent } from '../invalidation/events.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Vault } from '../vault/vault.ts';
import type { EngineParts } from './engine-parts.ts';
import type { PromptLimits } from './limits.ts';
import type { PromptMetrics } from './metrics.ts';
import type { ParsedRepo } from './parsed.ts';
import { PromptConfigStore, type PromptConfig, type SavePromptConfig } from './prompt-config-store.ts';
import { applyPush, applyRepositoryEvent, receivePush, type PushGroup, type PushPlan, type ReceivedPush, type RepositoryChange } from './push-refresh.ts';
import { headOf, type RefreshOutcome } from './refresh-outcome.ts';
import { applyRemote, forgetGuild } from './remote-changes.ts';
import { createRepoCredentials, createRepoTargets } from './repo-targets.ts';
import { createPromptResolver, type PromptResolver } from './resolver.ts';
import { reportFrom, type RepositoryReport } from './repository-report.ts';
import { SnapshotCache, type CacheTarget } from './snapshot-cache.ts';
import { KyselySnapshotStore } from './snapshot-store.ts';
import { InstallationLinkStore } from './sources/app-installations.ts';
import { createBreakerRegistry } from './sources/breaker-registry.ts';
import { createDefaultBranchLookup } from './sources/default-branch.ts';
import { createGitHubClients } from './sources/github-clients.ts';
import { InMemoryRateLimitGate } from './sources/rate-limit-gate.ts';
import { defaultApiBaseUrl, parseRepoUrl } from './sources/repo-url.ts';
import type { Problem, ResolutionLevel } from './types.ts';
import { createWebhookTrust } from './webhook-trust.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';
import { outcomeNotices } from './outcome-notices.ts';

export type { PromptConfig } from './prompt-config-store.ts';
export { WEBHOOK_TRUST_MS } from './webhook-trust.ts';
export type { RepositoryReport } from './repository-report.ts';
export type { PushGroup, PushPlan, ReceivedPush, RepositoryChange } from './push-refresh.ts';

export interface PromptEngineDeps {
  config: Config;
  db: Kysely<Database>;
  vault: Vault;
  logger: Logger;
  clock: Clock;
  metrics: PromptMetrics;
  bundled: ParsedRepo | null;
  /**
   * Tells the other processes of a deployment (the invalidation bus); absent
   * in a single tool process. Every announcement of the engine goes here.
   */
  announce?: (event: InvalidationEvent) => Promise<void>;
  /** Repositories whose signed webhooks reached the deployment lately, and when (their TTL is a backstop). */
  webhookRepos?: ReadonlyArray<{ owner: string; repo: string; at: number }>;
  /** Where refresh outcomes the admins should hear of go (an invalid push, a repository gone or back). */
  notices?: AdminNotices | undefined;
}

export interface PromptStatus {
  config: PromptConfig | null;
  commit: string | null;
  checkedAt: number | null;
  /** Which level serves a default request now. */
  level: ResolutionLevel;
  lastError: string | null;
  /** GitHub refused this credential (404, 401, 403) since then: the snapshot is not served. */
  denied: { status: number; since: number; message: string } | null;
  invalidHead: { commit: string; problems: Problem[] } | null;
}

export interface PromptEngine {
  resolver: PromptResolver;
  /** Reads a repository as `/prompt-config set` would, without saving anything; warms the cache. */
  inspect(input: { guildId: string; repoUrl: string; branch?: string; hasToken?: boolean }): Promise<
    { ok: true; config: Omit<PromptConfig, 'updatedAt' | 'updatedBy'>; report: RepositoryReport } | { ok: false; message: string }
  >;
  /** Refetches a guild's repository now. */
  refresh(guildId: string): Promise<RepositoryReport | undefined>;
  status(guildId: string): Promise<PromptStatus>;

  /** A guild's prompt config, or null when it has none. */
  config(guildId: string): Promise<PromptConfig | null>;
  /** The configs that read a repository, on any branch. */
  configsReading(owner: string, repo: string): Promise<PromptConfig[]>;
  /** Saves a guild's config (the caller then invalidates the guild). */
  saveConfig(input: SavePromptConfig): Promise<void>;
  /** Removes a guild's config; false when it had none. */
  removeConfig(guildId: string): Promise<boolean>;
  /** An inspection was a sync: records its outcome so status shows it at once. */
  recordInspection(guildId: string, report: RepositoryReport): Promise<void>;
  /**
   * The snapshot a guild's config reads, as this process holds it (never
   * from GitHub); with `storeWaitMs`, one not in memory is looked up in the
   * shared store for at most that long. Null: the guild has no config.
   */
  heldSnapshot(guildId: string, options?: { storeWaitMs?: number }): Promise<{ config: PromptConfig; parsed: ParsedRepo | null } | null>;
  /** A guild's config changed here: forget it in this process and tell the others. */
  invalidateGuild(guildId: string): void;

  /**
   * A signed push arrived: trusts the repository's webhooks (operator's secret
   * only), records the push on the guilds concerned, and plans one refresh per
   * snapshot that the push brings something new to. Quick: no GitHub.
   */
  receivePush(push: ReceivedPush): Promise<PushPlan>;
  /**
   * Refreshes what one or more push plans (merged by the caller's rate
   * limit) named, records the outcomes and tells the other processes; one
   * line per snapshot. Rejects when the database or the bus failed (retry).
   */
  applyPush(owner: string, repo: string, work: Map<string, PushGroup>): Promise<string[]>;
  /** A signed delivery says a repository was renamed, transferred or deleted. */
  applyRepositoryEvent(change: RepositoryChange): Promise<void>;
  /** GitHub pinged the operator's webhook from a repository: its pushes reach this deployment from now on. */
  applyWebhookPing(owner: string, repo: string): void;
  /** Another process changed shared state (the invalidation bus). */
  applyRemote(event: InvalidationEvent): Promise<void>;

  /** Waits for background refreshes (before closing the database; tests). */
  settle(): Promise<void>;
}

export function promptLimitsFrom(config: Config): Partial<PromptLimits> {
  return {
    maxFiles: config.prompts.limits.maxFiles,
    snapshotBytes: config.prompts.limits.snapshotBytes,
    promptBytes: config.prompts.limits.promptBytes,
    maxRoutes: config.prompts.limits.maxRoutes,
  };
}

/** Builds the prompt engine from its parts; the app's composition root calls this once. */
export function createPromptEngine(deps: PromptEngineDeps): PromptEngine {
  const { config, logger, clock, metrics } = deps;
  const limits = promptLimitsFrom(config);
  const sourceLimits = { maxFiles: config.prompts.limits.maxFiles, maxBytes: config.prompts.limits.snapshotBytes };
  const configs = new PromptConfigStore(deps.db);
  const github = createGitHubClients({ github: config.github, clock, logger, onRequest: (status) => metrics.githubRequest(status) });
  const appAuth = github.appAuth === undefined ? {} : { appAuth: github.appAuth };
  const links = InstallationLinkStore.over(deps.db);
  const credentialsFor = createRepoCredentials({ vault: deps.vault, links, ...appAuth });
  const targetFor = createRepoTargets({
    links,
    vault: deps.vault,
    gate: new InMemoryRateLimitGate(clock),
    breakers: createBreakerRegistry(),
    limits: sourceLimits,
    clock,
    octokitFor: github.octokitFor,
    ...appAuth,
    requestTimeoutMs: config.github.requestTimeoutMs,
    // GitHub's share of the refresh budget: the rest is the stored-copy look-up
    // and the vault. Its own timeout (an outage, counted by the breaker) must
    // fire before the cache's hard stop (which counts as the caller giving up).
    budgetMs: Math.max(100, config.github.refreshBudgetMs - 150),
    onRequest: github.onRequest,
    log: github.log,
  });
  // Asked with the credentials that will read the repository.
  const defaultBranch = createDefaultBranchLookup({
    octokitFor: github.octokitFor,
    credentialsFor,
    timeoutMs: config.github.requestTimeoutMs,
    onRequest: github.onRequest,
  });
  // Repositories whose pushes reached us as signed webhooks (here, or through
  // another process's announcement) are revalidated on a much longer TTL.
  const trust = createWebhookTrust(clock, config.prompts.webhookTtlMs);
  for (const { owner, repo, at } of deps.webhookRepos ?? []) trust.mark(owner, repo, at);
  const cache = new SnapshotCache({
    ttlFor: (identity) => trust.ttlFor(identity),
    store: new KyselySnapshotStore(deps.db, config.prompts.limits.snapshotBytes),
    clock,
    logger,
    limits,
    ttlMs: config.prompts.ttlMs,
    maxStaleMs: config.prompts.maxStaleMs,
    maxBytes: config.prompts.cacheMaxBytes,
    failureBackoffMs: 30_000,
    refreshBudgetMs: config.prompts.refreshBudgetMs,
    resolveWaitMs: config.github.refreshBudgetMs,
    onRefresh: () => metrics.setSnapshotBytes(cache.heldBytes),
    onOutcome: (target, outcome) => recordOutcome(target, outcome),
  });

  /**
   * Every refresh, whatever started it (a member's resolution, the
   * background, a command, a webhook), updates the sync record of every
   * guild served from that snapshot, so status shows what is true now.
   */
  const recordOutcome = async (target: CacheTarget, outcome: RefreshOutcome): Promise<void> => {
    const using = (await configs.byRepository(target.owner, target.repo, target.ref)).filter(
      (c) => c.enabled && targetFor(c).cacheKey === target.cacheKey,
    );
    if (using.length === 0) return;
    await configs.recordSync(using.map((c) => c.guildId), outcome, `${target.owner}/${target.repo}`);
    // `using` holds each guild's sync record from before this outcome: what changed is what admins hear of.
    for (const notice of outcomeNotices(using, outcome)) await deps.notices?.post(notice);
  };
  const resolver = createPromptResolver({
    configs,
    cache,
    targetFor,
    bundled: deps.bundled,
    metrics,
    logger,
    now: () => clock.now(),
  });

  /** The one way the engine tells the other processes; webhook work awaits it (a failure retries the delivery). */
  const publish = async (event: InvalidationEvent): Promise<void> => {
    await deps.announce?.(event);
  };
  /** For changes whose caller does not wait: a lost announcement is logged, the change here stands. */
  const announce = (event: InvalidationEvent): void => {
    publish(event).catch((error: unknown) => logger.warn({ err: error, event }, 'could not tell other processes about a prompt change'));
  };
  const parts: EngineParts = { configs, cache, targetFor, trust, publish, clock, logger };

  const apiBaseFor = (host: string, origin: string): string =>
    host === 'github.com' || host === 'www.github.com' ? config.github.apiUrl : defaultApiBaseUrl({ host, origin });

  return {
    resolver,

    async inspect(input) {
      const location = parseRepoUrl(input.repoUrl);
      if (!location.ok) return { ok: false, message: location.message };
      // Any server admin can type a URL here: only hosts the operator trusts
      // are ever contacted, or the bot could be pointed at internal services.
      const host = location.host.toLowerCase();
      if (host !== 'github.com' && host !== 'www.github.com' && !config.github.enterpriseHosts.includes(host)) {
        return {
          ok: false,
          message: `This bot reads prompt repositories on github.com only; ${location.host} is not allowed. The bot's operator can allow a GitHub Enterprise server with GITHUB_ENTERPRISE_HOSTS.`,
        };
      }
      const apiBaseUrl = apiBaseFor(location.host, location.origin);
      const hasToken = input.hasToken ?? (await deps.vault.metadata(input.guildId, 'github-token')) !== undefined;
      const branch =
        input.branch?.trim() ||
        (await defaultBranch({ apiBaseUrl, owner: location.owner, repo: location.repo, guildId: input.guildId, hasToken })) ||
        'main';
      if (!/^[A-Za-z0-9._/-]{1,200}$/.test(branch) || branch.includes('..')) {
        return { ok: false, message: `"${branch.slice(0, 60)}" is not a valid branch name` };
      }
      const candidate: PromptConfig = {
        guildId: input.guildId,
        repoUrl: `${location.origin}/${location.owner}/${location.repo}`,
        apiBaseUrl,
        owner: location.owner,
        repo: location.repo,
        branch,
        enabled: true,
        hasToken,
        lastSyncStatus: null,
        lastSyncCommit: null,
        lastSyncAt: null,
        lastSyncErrors: [],
        lastPushAt: null,
        repoEvent: null,
        updatedBy: '',
        updatedAt: new Date(0),
      };
      const target = targetFor(candidate);
      const result = await cache.refresh(target, { force: true });
      await result.recorded;
      return { ok: true, config: candidate, report: reportFrom(target, result) };
    },

    async refresh(guildId) {
      const current = await configs.get(guildId);
      if (current === null) return undefined;
      const target = targetFor(current);
      const result = await cache.refresh(target, { force: true });
      // The sync record is written by the cache's outcome hook; status read right after must see it.
      await result.recorded;
      const report = reportFrom(target, result);
      // Other processes load a new head from the store, and revalidate on a denial (they may still serve the snapshot).
      const head = headOf(result.outcome);
      if (head !== null) announce({ kind: 'repo', owner: current.owner, repo: current.repo, ref: current.branch, commit: head });
      else if (result.outcome.kind === 'denied') announce({ kind: 'repo', owner: current.owner, repo: current.repo, ref: current.branch });
      return report;
    },

    async status(guildId) {
      const current = await configs.get(guildId);
      if (current === null) {
        return { config: null, commit: null, checkedAt: null, level: deps.bundled ? 'default' : 'fallback', lastError: null, denied: null, invalidHead: null };
      }
      const target = targetFor(current);
      const entry = cache.peek(target.cacheKey) ?? (await cache.lookup(target)).entry;
      let level: ResolutionLevel = deps.bundled ? 'default' : 'fallback';
      if (entry?.parsed) level = cache.freshness(entry) === 'fresh' && entry.invalidHead === undefined ? 'custom' : 'cached';
      if (entry?.parsed && (cache.freshness(entry) === 'expired' || entry.denied !== undefined)) level = deps.bundled ? 'default' : 'fallback';
      return {
        config: current,
        commit: entry?.commit ?? null,
        checkedAt: entry?.checkedAt ?? null,
        level,
        lastError: entry?.lastError?.message ?? null,
        denied: entry?.denied === undefined ? null : { status: entry.denied.status, since: entry.denied.since, message: entry.denied.message },
        invalidHead: entry?.invalidHead === undefined ? null : { commit: entry.invalidHead.commit, problems: entry.invalidHead.problems },
      };
    },

    config: (guildId) => configs.get(guildId),
    configsReading: (owner, repo) => configs.byRepository(owner, repo),
    saveConfig: (input) => configs.save(input),
    removeConfig: (guildId) => configs.remove(guildId),

    async recordInspection(guildId, report) {
      await configs.recordSync([guildId], report.outcome, report.repo, report.commit);
    },

    async heldSnapshot(guildId, options = {}) {
      const current = await configs.get(guildId);
      if (current === null) return null;
      const target = targetFor(current);
      const held = cache.peek(target.cacheKey);
      if (held !== undefined || options.storeWaitMs === undefined) return { config: current, parsed: held?.parsed ?? null };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), options.storeWaitMs);
      });
      try {
        // A look-up that loses the race must not become an unhandled rejection.
        const stored = cache.lookup(target).then(
          (l) => l.entry?.parsed ?? null,
          () => null,
        );
        return { config: current, parsed: await Promise.race([stored, timeout]) };
      } finally {
        clearTimeout(timer);
      }
    },

    invalidateGuild(guildId) {
      forgetGuild(parts, guildId);
      announce({ kind: 'guild', guildId });
    },

    receivePush: (push) => receivePush(parts, push),
    applyPush: (owner, repo, work) => applyPush(parts, owner, repo, work),
    applyRepositoryEvent: (change) => applyRepositoryEvent(parts, change),
    applyWebhookPing: (owner, repo) => trust.mark(owner, repo, clock.now()),
    applyRemote: (event) => applyRemote(parts, event),

    settle: () => cache.settle(),
  };
}

import type { Kysely } from 'kysely';
import type { Octokit } from 'octokit';
import type { Config } from '../config/env.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Vault } from '../vault/vault.ts';
import type { PromptLimits } from './limits.ts';
import type { PromptMetrics } from './metrics.ts';
import type { ParsedRepo } from './parsed.ts';
import { PromptConfigStore, type PromptConfig } from './prompt-config-store.ts';
import { describeOutcome } from './outcome-text.ts';
import { headOf, isSuccess, type RefreshOutcome } from './refresh-outcome.ts';
import { createRepoCredentials, createRepoTargets } from './repo-targets.ts';
import { createPromptResolver, type PromptResolver } from './resolver.ts';
import { SnapshotCache, type CacheTarget, type RefreshResult } from './snapshot-cache.ts';
import { KyselySnapshotStore } from './snapshot-store.ts';
import { InstallationLinkStore } from './sources/app-installations.ts';
import { createBreakerRegistry } from './sources/breaker-registry.ts';
import { lookupDefaultBranch } from './sources/default-branch.ts';
import { GitHubAppAuth } from './sources/github-app-auth.ts';
import { createGitHubClient } from './sources/github-http.ts';
import { InMemoryRateLimitGate } from './sources/rate-limit-gate.ts';
import { defaultApiBaseUrl, parseRepoUrl } from './sources/repo-url.ts';
import type { Problem, ResolutionLevel } from './types.ts';
import type { InvalidationEvent } from '../invalidation/events.ts';

export interface PromptEngineDeps {
  config: Config;
  db: Kysely<Database>;
  vault: Vault;
  logger: Logger;
  clock: Clock;
  metrics: PromptMetrics;
  bundled: ParsedRepo | null;
  /** Tells the other processes of a deployment (the invalidation bus); absent in a single tool process. */
  announce?: (event: InvalidationEvent) => Promise<void>;
}

/** What an admin sees after `/prompt-config set` or `prompts resolve`: the repo as the engine reads it. */
export interface RepositoryReport {
  ok: boolean;
  repo: string;
  branch: string;
  commit: string | null;
  format: string | null;
  version: string | null;
  routes: Array<{ name: string; pattern: string }>;
  files: string[];
  problems: Problem[];
  /** Set when the refresh did not succeed: the admin's one line about it. */
  error?: string;
  /** What the refresh actually did. */
  outcome: RefreshOutcome;
  /** `outcome` in the admin's words (see describeOutcome). */
  summary: string;
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
  configs: PromptConfigStore;
  cache: SnapshotCache;
  targetFor(config: PromptConfig): CacheTarget;
  /** Reads a repository as `/prompt-config set` would, without saving anything; warms the cache. */
  inspect(input: { guildId: string; repoUrl: string; branch?: string; hasToken?: boolean }): Promise<
    { ok: true; config: Omit<PromptConfig, 'updatedAt' | 'updatedBy'>; report: RepositoryReport } | { ok: false; message: string }
  >;
  /** Refetches a guild's repository now. */
  refresh(guildId: string): Promise<RepositoryReport | undefined>;
  /** A guild's config changed here: forget it in this process and tell the others. */
  invalidateGuild(guildId: string): void;
  /** Drops what this process remembers about a guild's prompts (another process changed its config). */
  forgetGuild(guildId: string): void;
  status(guildId: string): Promise<PromptStatus>;
  /** Records that a repository's pushes arrive as signed webhooks (its TTL becomes a backstop). */
  markWebhookBacked(owner: string, repo: string, at?: number): void;
  /** Ends freshness of every snapshot of a repository (a push); returns how many were held. */
  expireRepository(owner: string, repo: string, ref?: string): number;
}

/** How long one signed delivery from a repository keeps its snapshots on the webhook TTL. */
const WEBHOOK_TRUST_MS = 7 * 24 * 60 * 60 * 1000;

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
  const githubLog = {
    warn: (message: string) => logger.warn({ source: 'octokit' }, message),
    error: (message: string) => logger.error({ source: 'octokit' }, message),
  };
  const clients = new Map<string, Octokit>();
  const octokitFor = (baseUrl: string): Octokit => {
    let client = clients.get(baseUrl);
    if (client === undefined) {
      client = createGitHubClient({ baseUrl, log: githubLog });
      clients.set(baseUrl, client);
    }
    return client;
  };
  const onRequest = (status: number | 'network' | 'timeout'): void => metrics.githubRequest(status);
  const appAuth =
    config.github.app === undefined
      ? undefined
      : new GitHubAppAuth({
          appId: config.github.app.id,
          privateKey: config.github.app.privateKey.reveal(),
          baseUrl: config.github.apiUrl,
          clock,
          requestTimeoutMs: config.github.requestTimeoutMs,
          onRequest,
          log: githubLog,
        });
  const links = InstallationLinkStore.over(deps.db);
  const credentialsFor = createRepoCredentials({ vault: deps.vault, links, ...(appAuth === undefined ? {} : { appAuth }) });
  const targetFor = createRepoTargets({
    links,
    vault: deps.vault,
    gate: new InMemoryRateLimitGate(clock),
    breakers: createBreakerRegistry(),
    limits: sourceLimits,
    clock,
    octokitFor,
    ...(appAuth === undefined ? {} : { appAuth }),
    requestTimeoutMs: config.github.requestTimeoutMs,
    // GitHub's share of the refresh budget: the rest is the stored-copy look-up
    // and the vault. Its own timeout (an outage, counted by the breaker) must
    // fire before the cache's hard stop (which counts as the caller giving up).
    budgetMs: Math.max(100, config.github.refreshBudgetMs - 150),
    onRequest,
    log: githubLog,
  });
  // Repositories whose pushes reached us as signed webhooks (here, or through
  // another process's announcement): their snapshots are revalidated on a
  // much longer TTL, since a push ends freshness at once anyway.
  const webhookBacked = new Map<string, number>();
  const repoName = (owner: string, repo: string): string => `${owner}/${repo}`.toLowerCase();
  const webhookTtl = (identity: { owner: string; repo: string }): number | undefined => {
    const seen = webhookBacked.get(repoName(identity.owner, identity.repo));
    return seen !== undefined && clock.now() - seen < WEBHOOK_TRUST_MS ? config.prompts.webhookTtlMs : undefined;
  };
  const cache = new SnapshotCache({
    ttlFor: webhookTtl,
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

  const announce = (event: InvalidationEvent): void => {
    deps.announce?.(event).catch((error: unknown) => logger.warn({ err: error, event }, 'could not tell other processes about a prompt change'));
  };

  const apiBaseFor = (host: string, origin: string): string =>
    host === 'github.com' || host === 'www.github.com' ? config.github.apiUrl : defaultApiBaseUrl({ host, origin });

  const reportFrom = (target: CacheTarget, result: RefreshResult): RepositoryReport => {
    const { entry, outcome } = result;
    // What serves after this refresh: the new or confirmed commit, or the stale
    // copy a GitHub failure leaves in place; never a denied or invalid one.
    const served = isSuccess(outcome) || (outcome.kind === 'failed' && outcome.serving !== null) ? (entry?.parsed ?? null) : null;
    const ok = isSuccess(outcome) && served !== null;
    const problems = outcome.kind === 'invalid' ? outcome.problems : served !== null ? (entry?.problems ?? []) : [];
    const commit = outcome.kind === 'failed' ? (outcome.serving?.commit ?? null) : headOf(outcome);
    const summary = describeOutcome(outcome, `${target.owner}/${target.repo}`);
    return {
      ok,
      repo: `${target.owner}/${target.repo}`,
      branch: target.ref,
      commit,
      format: served?.routing.format ?? null,
      version: served?.routing.version ?? null,
      routes: served?.routing.routes.map((r) => ({ name: r.name, pattern: r.template.source })) ?? [],
      files: served === null ? [] : [...served.prompts.keys()].sort(),
      problems,
      outcome,
      summary,
      ...(ok ? {} : { error: summary }),
    };
  };

  // Asked with the credentials that will read the repository.
  const defaultBranch = async (apiBaseUrl: string, owner: string, repo: string, guildId: string, hasToken: boolean): Promise<string | undefined> =>
    lookupDefaultBranch({
      octokit: octokitFor(apiBaseUrl),
      credentials: await credentialsFor({ guildId, apiBaseUrl, owner, repo, hasToken }),
      owner,
      repo,
      timeoutMs: config.github.requestTimeoutMs,
      onRequest,
    });

  return {
    resolver,
    configs,
    cache,
    targetFor,

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
        (await defaultBranch(apiBaseUrl, location.owner, location.repo, input.guildId, hasToken)) ||
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

    invalidateGuild(guildId) {
      this.forgetGuild(guildId);
      announce({ kind: 'guild', guildId });
    },

    forgetGuild(guildId) {
      const current = configs.cached(guildId);
      configs.invalidate(guildId);
      if (current) cache.expire((id) => id.cacheKey === targetFor(current).cacheKey);
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

    markWebhookBacked(owner, repo, at = clock.now()) {
      webhookBacked.set(repoName(owner, repo), at);
    },

    expireRepository(owner, repo, ref) {
      webhookBacked.set(repoName(owner, repo), clock.now());
      const o = owner.toLowerCase();
      const r = repo.toLowerCase();
      return cache.expire((id) => id.owner.toLowerCase() === o && id.repo.toLowerCase() === r && (ref === undefined || id.ref === ref));
    },
  };
}

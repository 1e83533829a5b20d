import type { Octokit } from 'octokit';
import type { Clock } from '../resilience/clock.ts';
import type { Vault } from '../vault/vault.ts';
import type { SourceLimits } from './sources/source.ts';
import type { CacheTarget } from './snapshot-cache.ts';
import { GITHUB_TOKEN_PURPOSE, type PromptConfig } from './prompt-config-store.ts';
import type { BreakerRegistry } from './sources/breaker-registry.ts';
import { anonymousCredentials, tokenCredentials, type GitHubCredentials } from './sources/credentials.ts';
import type { GitHubAppAuth } from './sources/github-app-auth.ts';
import type { GitHubLog, RequestCounter } from './sources/github-http.ts';
import { GitHubSource } from './sources/github-source.ts';
import type { RateLimitGate } from './sources/rate-limit-gate.ts';

export interface RepoTargetDeps {
  vault: Vault;
  gate: RateLimitGate;
  breakers: BreakerRegistry;
  limits: SourceLimits;
  clock: Clock;
  octokitFor(baseUrl: string): Octokit;
  appAuth?: GitHubAppAuth;
  requestTimeoutMs: number;
  budgetMs: number;
  onRequest?: RequestCounter;
  log?: GitHubLog;
}

/** The scope a config's snapshots are cached under: never shared across guilds when a guild token is used. */
export function credentialScope(config: PromptConfig, appAuth: GitHubAppAuth | undefined): string {
  if (config.hasToken) return `guild:${config.guildId}`;
  // An App installation can read private repos; keep each guild's view apart
  // so naming a repo never hands a guild a snapshot another guild fetched.
  if (appAuth !== undefined) return `${appAuth.scope}/guild:${config.guildId}`;
  return 'public';
}

export function cacheKeyFor(apiBaseUrl: string, owner: string, repo: string, ref: string, scope: string): string {
  return `${apiBaseUrl}|${owner.toLowerCase()}/${repo.toLowerCase()}@${ref}#${scope}`;
}

/**
 * Turns a guild's config into what the cache needs. Targets are remembered
 * per config object, so the warm path does no string building.
 */
export function createRepoTargets(deps: RepoTargetDeps): (config: PromptConfig) => CacheTarget {
  const memo = new WeakMap<PromptConfig, CacheTarget>();

  const credentialsFor = async (config: PromptConfig): Promise<GitHubCredentials> => {
    if (config.hasToken) {
      const token = await deps.vault.get(config.guildId, GITHUB_TOKEN_PURPOSE);
      if (token !== undefined) return tokenCredentials(token.reveal(), `guild:${config.guildId}`);
    }
    if (deps.appAuth !== undefined) return deps.appAuth.credentialsFor(config.owner, config.repo);
    return anonymousCredentials();
  };

  return (config) => {
    const hit = memo.get(config);
    if (hit !== undefined) return hit;
    const scope = credentialScope(config, deps.appAuth);
    const target: CacheTarget = {
      cacheKey: cacheKeyFor(config.apiBaseUrl, config.owner, config.repo, config.branch, scope),
      apiHost: config.apiBaseUrl,
      owner: config.owner,
      repo: config.repo,
      ref: config.branch,
      scope,
      label: `${config.owner}/${config.repo}@${config.branch}`,
      createSource: async (options = {}) =>
        new GitHubSource({
          owner: config.owner,
          repo: config.repo,
          ref: config.branch,
          baseUrl: config.apiBaseUrl,
          credentials: await credentialsFor(config),
          limits: deps.limits,
          gate: deps.gate,
          breakers: deps.breakers,
          clock: deps.clock,
          requestTimeoutMs: deps.requestTimeoutMs,
          budgetMs: options.budgetMs ?? deps.budgetMs,
          onRequest: deps.onRequest,
          octokit: deps.octokitFor(config.apiBaseUrl),
          ...(deps.log ? { log: deps.log } : {}),
        }),
    };
    memo.set(config, target);
    return target;
  };
}

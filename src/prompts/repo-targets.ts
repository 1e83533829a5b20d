import type { Octokit } from 'octokit';
import type { Clock } from '../resilience/clock.ts';
import type { Vault } from '../vault/vault.ts';
import type { SourceLimits } from './sources/source.ts';
import type { CacheTarget } from './snapshot-cache.ts';
import { GITHUB_TOKEN_PURPOSE, type PromptConfig } from './prompt-config-store.ts';
import type { BreakerRegistry } from './sources/breaker-registry.ts';
import { anonymousCredentials, tokenCredentials, type GitHubCredentials } from './sources/credentials.ts';
import type { GitHubAppAuth } from './sources/github-app-auth.ts';
import { stripTrailingSlash, type GitHubLog, type RequestCounter } from './sources/github-http.ts';
import { GitHubSource } from './sources/github-source.ts';
import { linkedAppCredentials, type LinkedInstallations } from './sources/linked-app-credentials.ts';
import type { RateLimitGate } from './sources/rate-limit-gate.ts';

interface RepoTargetDeps {
  vault: Vault;
  gate: RateLimitGate;
  breakers: BreakerRegistry;
  limits: SourceLimits;
  clock: Clock;
  octokitFor(baseUrl: string): Octokit;
  appAuth?: GitHubAppAuth;
  /** Which App installations each guild linked; without it the App serves no guild. */
  links?: LinkedInstallations;
  requestTimeoutMs: number;
  budgetMs: number;
  onRequest?: RequestCounter;
  log?: GitHubLog;
}

/** The scope a config's snapshots are cached under: never shared across guilds when a guild token is used. */
function credentialScope(config: PromptConfig, appAuth: GitHubAppAuth | undefined): string {
  if (config.hasToken) return `guild:${config.guildId}`;
  if (appAuth !== undefined && !appServes(appAuth, config.apiBaseUrl)) return 'public';
  // An installation linked to this guild can read private repos; keep each
  // guild's view apart so naming a repo never hands a guild a snapshot
  // another guild fetched (linkedAppCredentials uses the same scope).
  if (appAuth !== undefined) return `${appAuth.scope}/guild:${config.guildId}`;
  return 'public';
}

function cacheKeyFor(apiBaseUrl: string, owner: string, repo: string, ref: string, scope: string): string {
  return `${apiBaseUrl}|${owner.toLowerCase()}/${repo.toLowerCase()}@${ref}#${scope}`;
}

/** What the credentials of a guild's repository depend on. */
type RepoCredentialInput = Pick<PromptConfig, 'guildId' | 'apiBaseUrl' | 'owner' | 'repo' | 'hasToken'>;

/** An App's tokens are for its own GitHub: a repository on another (Enterprise) host is read without them. */
function appServes(appAuth: GitHubAppAuth, apiBaseUrl: string): boolean {
  return stripTrailingSlash(apiBaseUrl).toLowerCase() === appAuth.baseUrl.toLowerCase();
}

/**
 * The credentials a guild reads a repository with: its own stored token;
 * else, with a GitHub App, the installation linked to this guild (or
 * anonymous when none covers the repository); else anonymous.
 */
export function createRepoCredentials(
  deps: Pick<RepoTargetDeps, 'vault' | 'appAuth' | 'links'>,
): (input: RepoCredentialInput) => Promise<GitHubCredentials> {
  return async (input) => {
    if (input.hasToken) {
      const token = await deps.vault.get(input.guildId, GITHUB_TOKEN_PURPOSE);
      if (token !== undefined) return tokenCredentials(token.reveal(), `guild:${input.guildId}`);
    }
    if (deps.appAuth !== undefined && appServes(deps.appAuth, input.apiBaseUrl)) {
      const links = deps.links ?? noLinks;
      return linkedAppCredentials({ app: deps.appAuth, links, guildId: input.guildId, owner: input.owner, repo: input.repo });
    }
    return anonymousCredentials();
  };
}

const noLinks: LinkedInstallations = { installationsOf: async () => new Set() };

/**
 * Turns a guild's config into what the cache needs. Targets are remembered
 * per config object, so the warm path does no string building.
 */
export function createRepoTargets(deps: RepoTargetDeps): (config: PromptConfig) => CacheTarget {
  const memo = new WeakMap<PromptConfig, CacheTarget>();

  const credentialsFor = createRepoCredentials(deps);

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

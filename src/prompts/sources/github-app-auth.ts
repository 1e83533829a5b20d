import { App, Octokit } from 'octokit';
import type { Clock } from '../../resilience/clock.ts';
import { systemClock } from '../../resilience/clock.ts';
import type { GitHubCredentials } from './credentials.ts';
import type { GitHubLog, RequestCounter } from './github-http.ts';
import { defaultGitHubApiUrl, isHttpFailure, isTimeoutError, networkReason, silentLog, sourceErrorFromStatus, stripTrailingSlash } from './github-http.ts';
import { repoKey } from './repo-url.ts';
import { SourceError } from './source.ts';

interface GitHubAppAuthOptions {
  appId: string | number;
  /** The App's PEM private key. Kept inside octokit's App; never logged. */
  privateKey: string;
  baseUrl?: string;
  clock?: Clock;
  /** One HTTP exchange; default 5,000 ms. */
  requestTimeoutMs?: number;
  /** A token is replaced this long before GitHub says it expires; default 5 minutes. */
  refreshMarginMs?: number;
  /** How long the installation found for a repository is remembered; default 10 minutes. */
  installationTtlMs?: number;
  /** How long "the App is not installed on this repository" is remembered; default 1 minute. */
  notInstalledTtlMs?: number;
  onRequest?: RequestCounter;
  log?: GitHubLog;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

/**
 * GitHub App authentication for prompt repositories: finds the App's
 * installation that covers a repository (with the App's JWT) and mints an
 * installation token for it, cached until shortly before it expires and
 * shared by every repository of that installation. One instance serves the
 * whole process; `credentialsFor` gives each source its view.
 */
export class GitHubAppAuth {
  readonly scope: string;
  /** The REST root the App lives on; its tokens are for that host only. */
  readonly baseUrl: string;
  private readonly app: InstanceType<typeof App>;
  private readonly clock: Clock;
  private readonly installations = new Map<string, { id: number | undefined; until: number }>();
  private readonly tokens = new Map<number, CachedToken>();
  private readonly minting = new Map<number, Promise<CachedToken>>();

  constructor(private readonly options: GitHubAppAuthOptions) {
    this.scope = `app:${options.appId}`;
    this.baseUrl = stripTrailingSlash(options.baseUrl ?? defaultGitHubApiUrl);
    this.clock = options.clock ?? systemClock;
    const log = options.log ?? silentLog;
    const timeoutMs = options.requestTimeoutMs ?? 5_000;
    const quiet = { debug: () => undefined, info: () => undefined, warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) };
    const AppOctokit = Octokit.defaults({
      baseUrl: this.baseUrl,
      userAgent: 'recap-bot',
      retry: { enabled: false },
      throttle: { enabled: false },
      log: quiet,
      // Token minting inside auth-app takes no signal; bound it here.
      request: { fetch: withTimeout(timeoutMs) },
    });
    this.app = new App({ appId: options.appId, privateKey: options.privateKey, Octokit: AppOctokit, log: quiet });
    this.app.octokit.hook.wrap('request', async (request, endpoint) => {
      const route = `${endpoint.method} ${endpoint.url}`;
      try {
        const response = await request(endpoint);
        options.onRequest?.(response.status, route);
        return response;
      } catch (error) {
        options.onRequest?.(isHttpFailure(error) ? error.status : isTimeoutError(error) ? 'timeout' : 'network', route);
        throw error;
      }
    });
  }

  /**
   * Credentials for one repository through whichever installation covers it,
   * for whoever asks. Prompt repositories of guilds go through
   * linkedAppCredentials instead, which uses an installation only for the
   * guilds it was linked to.
   */
  credentialsFor(owner: string, repo: string): GitHubCredentials {
    return {
      scope: this.scope,
      getAuthHeader: async (signal?: AbortSignal) => {
        const installation = await this.findInstallation(owner, repo, signal);
        if (installation === undefined) {
          throw new SourceError('not-found', `The GitHub App is not installed on ${owner}/${repo}: install it and give it access to that repository.`, { status: 404 });
        }
        return this.installationHeader(installation, `${owner}/${repo}`);
      },
    };
  }

  /** The `Authorization` header of an installation token, minted or cached. */
  async installationHeader(installationId: number, label: string): Promise<string> {
    return (await this.tokenFor(installationId, label)).header;
  }

  /**
   * The App's installation that covers a repository (asked with the App's
   * JWT), or undefined when the App is not installed there. Both answers are
   * remembered for a while: a found installation for `installationTtlMs`,
   * its absence only briefly, so a fresh install is seen soon.
   */
  async findInstallation(owner: string, repo: string, signal?: AbortSignal): Promise<number | undefined> {
    const key = repoKey({ owner, repo });
    const cached = this.installations.get(key);
    if (cached !== undefined && this.clock.now() < cached.until) return cached.id;
    const label = `${owner}/${repo}`;
    try {
      const response = await this.app.octokit.request('GET /repos/{owner}/{repo}/installation', {
        owner,
        repo,
        ...(signal === undefined ? {} : { request: { signal } }),
      });
      const id = response.data.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
        throw new SourceError('server', `GitHub answered an unreadable installation for ${label}.`);
      }
      this.installations.set(key, { id, until: this.clock.now() + (this.options.installationTtlMs ?? 600_000) });
      return id;
    } catch (error) {
      if (isHttpFailure(error) && error.status === 404) {
        this.installations.set(key, { id: undefined, until: this.clock.now() + (this.options.notInstalledTtlMs ?? 60_000) });
        return undefined;
      }
      throw this.describe(error, label, 'find the App installation for');
    }
  }

  private async tokenFor(installationId: number, label: string): Promise<CachedToken> {
    const cached = this.tokens.get(installationId);
    const margin = this.options.refreshMarginMs ?? 300_000;
    if (cached !== undefined && this.clock.now() < cached.expiresAt - margin) return cached;
    // Concurrent refreshes of one installation share a single mint.
    let pending = this.minting.get(installationId);
    if (pending === undefined) {
      pending = this.mint(installationId, label).finally(() => this.minting.delete(installationId));
      this.minting.set(installationId, pending);
    }
    return pending;
  }

  private async mint(installationId: number, label: string): Promise<CachedToken> {
    let result: unknown;
    try {
      // refresh: our cache (with the injected clock) decides when a token is stale, not auth-app's.
      result = await this.app.octokit.auth({ type: 'installation', installationId, refresh: true });
    } catch (error) {
      throw this.describe(error, label, 'get an installation token for');
    }
    const { token, expiresAt } = (result ?? {}) as { token?: unknown; expiresAt?: unknown };
    const expiry = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    if (typeof token !== 'string' || token === '' || Number.isNaN(expiry)) {
      throw new SourceError('server', `GitHub answered an unreadable installation token for ${label}.`);
    }
    const fresh = { header: `token ${token}`, expiresAt: expiry };
    this.tokens.set(installationId, fresh);
    return fresh;
  }

  private describe(error: unknown, label: string, action: string): SourceError {
    if (error instanceof SourceError) return error;
    if (isHttpFailure(error)) {
      if (error.status === 404) {
        return new SourceError('not-found', `The GitHub App is not installed on ${label}: install it and give it access to that repository.`, { status: 404 });
      }
      if (error.status === 401) {
        return new SourceError('unauthorized', `GitHub refused the App's credentials while trying to ${action} ${label}: check the app id and private key.`, { status: 401 });
      }
      return sourceErrorFromStatus(error, { label, what: 'installation', anonymous: false, now: this.clock.now() });
    }
    if (isTimeoutError(error)) return new SourceError('timeout', `GitHub did not answer in time while trying to ${action} ${label}.`);
    return new SourceError('network', `Could not reach GitHub to ${action} ${label} (${networkReason(error)}).`);
  }
}

function withTimeout(timeoutMs: number): typeof globalThis.fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return globalThis.fetch(input, { ...init, signal });
  };
}

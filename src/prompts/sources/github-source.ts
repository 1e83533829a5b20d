import type { Octokit } from 'octokit';
import type { Clock } from '../../resilience/clock.ts';
import { systemClock } from '../../resilience/clock.ts';
import type { BreakerRegistry } from './breaker-registry.ts';
import type { GitHubCredentials } from './credentials.ts';
import type { GitHubLog, HeaderBag, RequestCounter } from './github-http.ts';
import { createGitHubClient, defaultGitHubApiUrl, header, stripTrailingSlash } from './github-http.ts';
import type { RateLimitGate } from './rate-limit-gate.ts';
import type { ResponseLike, RetryPolicy } from './refresh-run.ts';
import { NotModified, RefreshRun } from './refresh-run.ts';
import { repoKey } from './repo-url.ts';
import type { FetchOutcome, FetchRequest, PromptSource, SourceLimits } from './source.ts';
import { SourceError } from './source.ts';
import { readTarball } from './tar-archive.ts';

export interface GitHubSourceOptions {
  owner: string;
  repo: string;
  /** Branch, tag or SHA; default `HEAD`, which GitHub resolves to the default branch. */
  ref?: string;
  /** REST root (GITHUB_API_URL); default https://api.github.com. */
  baseUrl?: string;
  credentials: GitHubCredentials;
  limits: SourceLimits;
  /** Shared by all sources: tracks rate limits per credential scope. */
  gate: RateLimitGate;
  /** Shared by all sources: one breaker per repository. */
  breakers: BreakerRegistry;
  clock?: Clock;
  /** One HTTP exchange; default 5,000 ms. */
  requestTimeoutMs?: number;
  /** A whole refresh, retries included; default 2,500 ms. */
  budgetMs?: number;
  /** Retries of 5xx, network errors and timeouts per refresh; default 2. */
  maxRetries?: number;
  /** Full-jitter back-off between retries; defaults 100 ms base, 1,000 ms cap, Math.random. */
  backoff?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  onRequest?: RequestCounter | undefined;
  /** A client to share between sources; one is created (with `baseUrl`) otherwise. */
  octokit?: Octokit;
  log?: GitHubLog | undefined;
  /** Used for the archive download, which leaves the API host; default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

const shaPattern = /^[0-9a-f]{40}$/;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * A prompt repository on GitHub, pinned per fetch to one commit SHA.
 *
 * A refresh costs one conditional request when nothing changed (a 304 does
 * not count against GitHub's rate limit), and three requests when it did:
 * the branch head, the tarball redirect, and the archive download, whatever
 * the number of files.
 */
export class GitHubSource implements PromptSource {
  readonly id: string;
  /** Case-insensitive repository identity (see repoKey); also the breaker's target. */
  readonly key: string;
  private readonly ref: string;
  private readonly baseUrl: string;
  private readonly octokit: Octokit;
  private readonly clock: Clock;
  private readonly label: string;

  constructor(private readonly options: GitHubSourceOptions) {
    this.ref = options.ref ?? 'HEAD';
    this.baseUrl = stripTrailingSlash(options.baseUrl ?? defaultGitHubApiUrl);
    this.octokit = options.octokit ?? createGitHubClient({ baseUrl: this.baseUrl, ...(options.log ? { log: options.log } : {}) });
    this.clock = options.clock ?? systemClock;
    const apiHost = new URL(this.baseUrl).host;
    this.key = repoKey({ host: apiHost === 'api.github.com' ? 'github.com' : apiHost, owner: options.owner, repo: options.repo });
    this.label = `${options.owner}/${options.repo}`;
    this.id = `github:${this.label}@${this.ref}`;
  }

  /** Whose view of GitHub this source reads with (see GitHubCredentials.scope). */
  get scope(): string {
    return this.options.credentials.scope;
  }

  async fetch(request: FetchRequest = {}): Promise<FetchOutcome> {
    const breaker = this.options.breakers.get(this.key);
    const gateKey = `${this.options.credentials.scope} ${this.baseUrl}`;
    const limitedUntil = this.options.gate.blockedUntil(gateKey);
    if (limitedUntil !== undefined) {
      throw new SourceError('rate-limited', `GitHub rate limit for these credentials is used up; ${this.label} will be read again after ${new Date(limitedUntil).toISOString()}.`, {
        retryAt: limitedUntil,
      });
    }
    if (!breaker.tryAcquire()) {
      throw new SourceError('circuit-open', `GitHub failed repeatedly for ${this.label}; not trying again before ${new Date(breaker.retryAt).toISOString()}.`, {
        retryAt: breaker.retryAt,
      });
    }
    try {
      const outcome = await this.refresh(request, gateKey);
      breaker.recordSuccess();
      return outcome;
    } catch (error) {
      const failure = error instanceof SourceError ? error : new SourceError('network', `Reading ${this.label} failed unexpectedly.`);
      if (isOutage(failure)) breaker.recordFailure();
      else if (failure.kind === 'rate-limited' || failure.kind === 'aborted') breaker.releaseProbe();
      // Any other answer (404, 401, too large…) shows GitHub is up.
      else breaker.recordSuccess();
      throw failure;
    }
  }

  private async refresh(request: FetchRequest, gateKey: string): Promise<FetchOutcome> {
    const { options } = this;
    const run = new RefreshRun({
      gate: options.gate,
      gateKey,
      clock: this.clock,
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      budgetMs: options.budgetMs ?? 2_500,
      retry: {
        maxRetries: options.maxRetries ?? 2,
        baseDelayMs: options.backoff?.baseDelayMs ?? 100,
        maxDelayMs: options.backoff?.maxDelayMs ?? 1_000,
        random: options.backoff?.random ?? Math.random,
      },
      onRequest: options.onRequest,
      label: this.label,
      anonymous: options.credentials.scope === 'public',
      ...(options.credentials.notFoundHint === undefined ? {} : { notFoundHint: options.credentials.notFoundHint }),
      callerSignal: request.signal,
    });
    const authorization = await options.credentials.getAuthHeader(run.signal);
    const auth: Record<string, string> = authorization === undefined ? {} : { authorization };

    const head = await this.resolveHead(run, auth, request.known);
    if (head.kind === 'not-modified') return head;
    if (request.known?.commit === head.commit) return { kind: 'not-modified', commit: head.commit, ...etag(head.etag) };

    const body = await this.openArchive(run, auth, head.commit);
    try {
      const snapshot = await readTarball(body, head.commit, { limits: options.limits, label: this.label });
      return { kind: 'snapshot', snapshot, ...etag(head.etag) };
    } catch (error) {
      throw run.abortOr(error, 'download');
    }
  }

  /** `GET /repos/{owner}/{repo}/commits/{ref}` as a bare SHA, conditional on the ETag we hold. */
  private async resolveHead(
    run: RefreshRun,
    auth: Record<string, string>,
    known: FetchRequest['known'],
  ): Promise<{ kind: 'head'; commit: string; etag: string | undefined } | { kind: 'not-modified'; commit: string; etag?: string }> {
    // The ETag comes back from storage; a malformed one must not break the request.
    const conditional = known?.etag !== undefined && /^(W\/)?"[\x21\x23-\x7e]*"$/.test(known.etag) ? { 'if-none-match': known.etag } : {};
    try {
      const response = await run.call('GET /repos/{owner}/{repo}/commits/{ref}', `branch or commit "${this.ref}"`, (signal) =>
        this.octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', {
          owner: this.options.owner,
          repo: this.options.repo,
          ref: this.ref,
          headers: { accept: 'application/vnd.github.sha', ...conditional, ...auth },
          request: { signal },
        }),
      );
      const commit = decodeSha(response.data).trim().toLowerCase();
      if (!shaPattern.test(commit)) {
        throw new SourceError('server', `GitHub answered something other than a commit SHA for ${this.label}@${this.ref}.`);
      }
      return { kind: 'head', commit, etag: header(response.headers, 'etag') };
    } catch (error) {
      if (error instanceof NotModified && known !== undefined) {
        return { kind: 'not-modified', commit: known.commit, ...etag(error.etag ?? known.etag) };
      }
      if (error instanceof NotModified) {
        throw new SourceError('server', `GitHub answered 304 to an unconditional request for ${this.label}.`, { status: 304 });
      }
      throw error;
    }
  }

  /**
   * `GET /repos/{owner}/{repo}/tarball/{sha}` answers a redirect to a
   * short-lived download URL that carries its own authorization, so the
   * token is not sent along (it may be another host).
   */
  private async openArchive(run: RefreshRun, auth: Record<string, string>, commit: string): Promise<ReadableStream<Uint8Array>> {
    const response = await run.call('GET /repos/{owner}/{repo}/tarball/{ref}', `commit ${commit}`, async (signal) => {
      const answer = await this.octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
        owner: this.options.owner,
        repo: this.options.repo,
        ref: commit,
        headers: auth,
        request: { signal, redirect: 'manual', parseSuccessResponseBody: false },
      });
      return { status: answer.status as number, headers: answer.headers as HeaderBag, data: answer.data as unknown };
    });
    if (response.status === 200 && isReadableStream(response.data)) return response.data;
    await cancelBody(response.data);
    const location = header(response.headers, 'location');
    if (!redirectStatuses.has(response.status) || location === undefined) {
      throw new SourceError('server', `GitHub answered ${response.status} without an archive for ${this.label}.`, { status: response.status });
    }
    const target = this.downloadUrl(location);
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    const download = await run.call('GET download', `archive of commit ${commit}`, async (signal) => {
      const answer = await fetchImpl(target, { signal, redirect: 'follow' });
      const headers = Object.fromEntries(answer.headers);
      if (!answer.ok) {
        await cancelBody(answer.body);
        throw new HttpStatusError(answer.status, headers);
      }
      return { status: answer.status, headers, body: answer.body } satisfies ResponseLike & { body: unknown };
    }, { api: false });
    if (download.body === null) throw new SourceError('invalid-archive', `The archive of ${this.label} was empty.`);
    return download.body;
  }

  private downloadUrl(location: string): URL {
    let url: URL;
    try {
      url = new URL(location, `${this.baseUrl}/`);
    } catch {
      throw new SourceError('server', `GitHub redirected the archive of ${this.label} to an unreadable address.`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new SourceError('server', `GitHub redirected the archive of ${this.label} to a ${url.protocol} address.`);
    }
    return url;
  }
}

/** A non-2xx answer to a plain fetch, shaped like octokit's RequestError for the classifiers. */
class HttpStatusError extends Error {
  readonly response: { headers: HeaderBag };
  constructor(
    readonly status: number,
    headers: HeaderBag,
  ) {
    super(`HTTP ${status}`);
    this.response = { headers };
  }
}

/** Failures that say GitHub (or the way to it) is unwell: these feed the breaker. */
function isOutage(error: SourceError): boolean {
  return error.kind === 'server' || error.kind === 'network' || error.kind === 'timeout' || error.kind === 'invalid-archive';
}

function etag(value: string | undefined): { etag?: string } {
  return value === undefined ? {} : { etag: value };
}

/** octokit hands `application/vnd.github.sha` over as text, or as bytes when the charset is missing. */
function decodeSha(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  return '';
}

function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as { getReader?: unknown }).getReader === 'function';
}

async function cancelBody(body: unknown): Promise<void> {
  if (isReadableStream(body)) await body.cancel().catch(() => undefined);
}

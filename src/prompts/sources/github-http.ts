import { Octokit } from 'octokit';
import { parseRetryAfter } from '../../resilience/backoff.ts';
import { SourceError } from './source.ts';

/** Reports every HTTP exchange with GitHub, e.g. to feed `recap_github_requests_total{status}`. */
export type RequestCounter = (status: number | 'network' | 'timeout', route: string) => void;

/** Where octokit's own messages go. Debug and info are dropped: they would print every 304. */
export interface GitHubLog {
  warn(message: string): void;
  error(message: string): void;
}

export const silentLog: GitHubLog = { warn: () => undefined, error: () => undefined };

interface GitHubClientOptions {
  /** REST root: https://api.github.com, `https://ghe.example/api/v3`, or an emulator. */
  baseUrl?: string;
  userAgent?: string;
  log?: GitHubLog;
}

export const defaultGitHubApiUrl = 'https://api.github.com';

/**
 * An Octokit without its retry and throttling plugins: the source owns
 * retries, budgets and rate-limit waits, and a plugin sleeping for minutes
 * inside a request would break all three. One client can serve many sources.
 */
export function createGitHubClient(options: GitHubClientOptions = {}): Octokit {
  const log = options.log ?? silentLog;
  return new Octokit({
    baseUrl: stripTrailingSlash(options.baseUrl ?? defaultGitHubApiUrl),
    userAgent: options.userAgent ?? 'recap-bot',
    retry: { enabled: false },
    throttle: { enabled: false },
    log: { debug: () => undefined, info: () => undefined, warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
  });
}

export function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export type HeaderBag = Record<string, string | number | undefined>;

/** The fields of an HTTP failure the classifiers need; octokit's RequestError has this shape. */
interface HttpFailure {
  status: number;
  response?: { headers: HeaderBag; data?: unknown };
}

export function isHttpFailure(error: unknown): error is HttpFailure & { response: { headers: HeaderBag } } {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { status?: unknown; response?: { headers?: unknown } };
  // octokit reports network failures as status 500 *without* a response.
  return typeof candidate.status === 'number' && typeof candidate.response?.headers === 'object' && candidate.response.headers !== null;
}

export function header(headers: HeaderBag | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
}

/**
 * When GitHub says to stop calling: a primary limit (`x-ratelimit-remaining:
 * 0` with `x-ratelimit-reset`), a secondary limit (`retry-after`), or a
 * 403/429 that mentions a rate limit without saying how long (GitHub asks to
 * wait at least a minute then). Undefined when the answer is not a limit.
 */
function rateLimitedUntil(status: number, headers: HeaderBag | undefined, message: string, now: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = parseRetryAfter(header(headers, 'retry-after'), now);
  if (retryAfter !== undefined) return now + Math.max(retryAfter, 1000);
  if (header(headers, 'x-ratelimit-remaining') === '0') return resetTime(headers, now);
  if (status === 429 || /rate limit/i.test(message)) return now + 60_000;
  return undefined;
}

/** After a successful answer: when the quota it reports is used up, until when. */
export function quotaExhaustedUntil(headers: HeaderBag | undefined, now: number): number | undefined {
  if (header(headers, 'x-ratelimit-remaining') !== '0') return undefined;
  return resetTime(headers, now);
}

function resetTime(headers: HeaderBag | undefined, now: number): number {
  const reset = Number(header(headers, 'x-ratelimit-reset'));
  // At least a second, in case GitHub's clock and ours disagree.
  return Number.isFinite(reset) ? Math.max(reset * 1000, now + 1000) : now + 60_000;
}

export interface FailureContext {
  /** `owner/name`, for messages. */
  label: string;
  /** What was being asked, e.g. `the branch "main"`, for 404/422 messages. */
  what: string;
  anonymous: boolean;
  now: number;
  /** Replaces the generic advice of a 404 (see GitHubCredentials.notFoundHint). */
  notFoundHint?: string;
}

/** Turns an HTTP error answer into a SourceError an admin can act on. */
export function sourceErrorFromStatus(failure: HttpFailure, context: FailureContext): SourceError {
  const { status } = failure;
  const headers = failure.response?.headers;
  const message = githubMessage(failure.response?.data);
  const limitedUntil = rateLimitedUntil(status, headers, message, context.now);
  if (limitedUntil !== undefined) {
    return new SourceError(
      'rate-limited',
      `GitHub rate limit reached while reading ${context.label}; trying again after ${new Date(limitedUntil).toISOString()}.`,
      { retryAt: limitedUntil, status },
    );
  }
  if (status === 401) {
    return new SourceError('unauthorized', `GitHub refused the credentials for ${context.label} (401): the token is invalid, expired or revoked.`, { status });
  }
  if (status === 403 || status === 451) {
    return new SourceError('forbidden', `GitHub denied access to ${context.label} (${status}): the token lacks read access to its contents, or the organization blocks it.`, { status });
  }
  if (status === 404 || status === 410) {
    const advice =
      context.notFoundHint !== undefined
        ? context.notFoundHint
        : context.anonymous
          ? 'If it is private, add a token with read access.'
          : 'Check the name, and that the token can read it.';
    return new SourceError('not-found', `GitHub has no repository ${context.label}, or cannot show it with these credentials. ${advice}`, { status, advice });
  }
  if (status === 422) {
    return new SourceError('not-found', `${context.label} has no ${context.what}.`, { status });
  }
  if (status >= 500) {
    return new SourceError('server', `GitHub failed while serving ${context.label} (${status}).`, { status });
  }
  return new SourceError('server', `GitHub gave an unexpected answer (${status}) for ${context.label}.`, { status });
}

/** GitHub's `message` field, shortened; it is hostile text, so only used for matching, never echoed. */
function githubMessage(data: unknown): string {
  if (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string') {
    return data.message.slice(0, 300);
  }
  return typeof data === 'string' ? data.slice(0, 300) : '';
}

/** A short description of a network failure: the error code, never a URL (download URLs carry tokens). */
export function networkReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return 'connection failed';
}

/** Our AbortSignal.timeout fired somewhere below (octokit wraps it; fetch rethrows it). */
export function isTimeoutError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

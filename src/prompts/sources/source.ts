import type { RawSnapshot } from '../types.ts';

/**
 * A place prompt repositories come from. A source hands over every file of
 * exactly one commit, or says that the commit the caller already holds is
 * still the newest.
 */
export interface PromptSource {
  /** Stable description for logs and status output, e.g. `github:owner/name@main`. Never contains secrets. */
  readonly id: string;
  /**
   * Returns the newest snapshot, or `not-modified` when the newest commit is
   * `known.commit` (for GitHub: the ETag answered 304, or the SHA is unchanged).
   * Fails with a {@link SourceError}.
   */
  fetch(request?: FetchRequest): Promise<FetchOutcome>;
}

export interface FetchRequest {
  /** What the caller already holds; lets the source skip the download. */
  known?: { commit: string; etag?: string } | undefined;
  signal?: AbortSignal;
}

export type FetchOutcome =
  | { kind: 'snapshot'; snapshot: RawSnapshot; etag?: string }
  | { kind: 'not-modified'; commit: string; etag?: string };

/** Size limits a snapshot must respect; past them the fetch fails with `too-large`. */
export interface SourceLimits {
  /** Regular files in the snapshot. */
  maxFiles: number;
  /** Sum of the sizes of those files. */
  maxBytes: number;
}

/** The defaults of the prompt-repository contract (docs/prompt-repos.md). */
export const defaultSourceLimits: SourceLimits = { maxFiles: 2_000, maxBytes: 10 * 1024 * 1024 };

export type SourceErrorKind =
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate-limited'
  | 'timeout'
  | 'aborted'
  | 'network'
  | 'server'
  | 'invalid-archive'
  | 'too-large'
  | 'circuit-open';

/**
 * Kinds that say the remote side is unwell (as opposed to a configuration
 * problem the admin must fix): worth serving a stale snapshot and trying later.
 */
const transientKinds: ReadonlySet<SourceErrorKind> = new Set([
  'rate-limited',
  'timeout',
  'network',
  'server',
  'circuit-open',
  'invalid-archive',
]);

interface SourceErrorDetails {
  /** When trying again makes sense (ms since epoch, by the source's clock): rate limits and open circuits. */
  retryAt?: number;
  /** HTTP status, when one was received. */
  status?: number;
  /** What the admin can do about it, when the source knows (e.g. add a token, link the GitHub App). */
  advice?: string;
}

/**
 * Why a source could not deliver. Messages are written for an admin and
 * never contain tokens, download URLs or other secrets.
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  readonly retryAt: number | undefined;
  readonly status: number | undefined;
  readonly advice: string | undefined;

  constructor(
    readonly kind: SourceErrorKind,
    message: string,
    details: SourceErrorDetails = {},
  ) {
    super(message);
    this.retryAt = details.retryAt;
    this.status = details.status;
    this.advice = details.advice;
  }

  /** True when the failure is likely to pass by itself (serve stale, retry later). */
  get transient(): boolean {
    return transientKinds.has(this.kind);
  }
}

export function isSourceError(value: unknown): value is SourceError {
  return value instanceof SourceError;
}

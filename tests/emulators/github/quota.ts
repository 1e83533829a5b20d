import type { Clock } from '../../../src/resilience/clock.ts';
import type { Identity } from './access.ts';

export interface QuotaOptions {
  /** Requests per window without credentials (GitHub: 60 an hour per IP). */
  anonymous?: number;
  /** Requests per window per token (GitHub: 5,000 an hour). */
  authenticated?: number;
  windowMs?: number;
}

export interface QuotaState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds, as in `x-ratelimit-reset`. */
  reset: number;
}

interface Bucket {
  limit: number;
  used: number;
  resetAt: number;
}

/**
 * GitHub's primary rate limit, per credential (anonymous callers share one
 * bucket, as they share an IP here). Authorized 304 answers are free, as on
 * GitHub; App JWT requests are not counted.
 */
export class QuotaBook {
  private readonly buckets = new Map<string, Bucket>();
  private readonly anonymous: number;
  private readonly authenticated: number;
  private readonly windowMs: number;

  constructor(
    private readonly clock: Clock,
    options: QuotaOptions = {},
  ) {
    this.anonymous = options.anonymous ?? 60;
    this.authenticated = options.authenticated ?? 5_000;
    this.windowMs = options.windowMs ?? 60 * 60 * 1000;
  }

  /** The bucket's state before this request is counted. */
  peek(identity: Identity): QuotaState {
    return this.state(this.bucket(identity));
  }

  /** Counts one request and returns the state to report. */
  spend(identity: Identity, status: number): QuotaState {
    const bucket = this.bucket(identity);
    const free = status === 304 && identity.kind !== 'anonymous';
    if (!free && identity.kind !== 'app') bucket.used = Math.min(bucket.limit, bucket.used + 1);
    return this.state(bucket);
  }

  /** Uses up the quota of an identity until `resetInMs` from now. */
  exhaust(identity: Identity, resetInMs = this.windowMs): void {
    const bucket = this.bucket(identity);
    bucket.used = bucket.limit;
    bucket.resetAt = this.clock.now() + resetInMs;
  }

  private bucket(identity: Identity): Bucket {
    const key = identity.kind === 'anonymous' ? 'anonymous' : identity.kind === 'app' ? `app:${identity.appId}` : identity.kind === 'invalid' ? 'invalid' : `token:${identity.token}`;
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined || now >= bucket.resetAt) {
      bucket = { limit: identity.kind === 'anonymous' || identity.kind === 'invalid' ? this.anonymous : this.authenticated, used: 0, resetAt: now + this.windowMs };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private state(bucket: Bucket): QuotaState {
    return { limit: bucket.limit, remaining: bucket.limit - bucket.used, used: bucket.used, reset: Math.ceil(bucket.resetAt / 1000) };
  }
}

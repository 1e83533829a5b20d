/**
 * Requests per API key or feed token. The interface is what the API depends
 * on; the implementation is the router's in-process token buckets, so with
 * several web processes each allows the full rate: a deployment-wide limiter
 * (rate-limiter-flexible over Postgres, as src/llm/shared-state uses) can
 * implement the same interface.
 */
import { TokenBuckets } from '../llm/router/token-bucket.ts';

export interface KeyRateLimiter {
  /** One request by `key`: allowed, or refused with how long to wait. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number };
}

export interface TokenBucketOptions {
  /** Requests a key may make at once. */
  burst: number;
  /** Requests a key regains per minute. */
  perMinute: number;
  now?: () => number;
  /** Keys tracked before full buckets are swept (memory follows active keys). */
  maxKeys?: number;
}

export function createTokenBucketLimiter(options: TokenBucketOptions): KeyRateLimiter {
  const now = options.now ?? Date.now;
  const buckets = new TokenBuckets({ capacity: options.burst, refillPerSecond: options.perMinute / 60 }, options.maxKeys);
  return {
    take(key) {
      const t = now();
      const taken = buckets.take(key, t);
      return taken.ok ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((taken.availableAt - t) / 1_000)) };
    },
  };
}

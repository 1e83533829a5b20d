/**
 * Requests per API key. The interface is what the API depends on; the
 * implementation here is an in-process token bucket (no rate-limit library
 * is in the project yet), so with several web processes each allows the
 * full rate: a deployment-wide limiter (rate-limiter-flexible over
 * Postgres) can implement the same interface.
 */
import { LRUCache } from 'lru-cache';

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
  /** Keys tracked at once (least recently used forgotten first). */
  maxKeys?: number;
}

export function createTokenBucketLimiter(options: TokenBucketOptions): KeyRateLimiter {
  const now = options.now ?? Date.now;
  const perMs = options.perMinute / 60_000;
  const buckets = new LRUCache<string, { tokens: number; at: number }>({ max: options.maxKeys ?? 10_000 });
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: options.burst, at: t };
      const tokens = Math.min(options.burst, bucket.tokens + (t - bucket.at) * perMs);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: t });
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1_000)) };
      }
      buckets.set(key, { tokens: tokens - 1, at: t });
      return { allowed: true };
    },
  };
}

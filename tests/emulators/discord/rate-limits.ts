/**
 * Per-route buckets with Discord's headers, enforced like Discord (a client that ignores them gets
 * 429s), plus 429s injected on demand so tests can watch a client wait and retry.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../src/resilience/clock.ts';

export interface RateLimitPolicy {
  /** Requests per bucket per window. */
  limit: number;
  windowMs: number;
}

export interface InjectedLimitOptions {
  /** How many matching requests get a 429 (default 1). */
  times?: number;
  /** Sent as `retry_after` (seconds, fractional) and `retry-after` (default 100 ms). */
  retryAfterMs?: number;
  /** A global limit adds `x-ratelimit-global` and `global: true`. */
  global?: boolean;
}

/**
 * Which requests to limit: a route name as recorded (`'POST /channels/:channelId/messages'`),
 * or a RegExp tested against `METHOD /path` with real ids (`/^GET \/channels\/123\/messages/`).
 */
export type RouteMatcher = string | RegExp;

export interface RateLimitDecision {
  headers: Record<string, string>;
  /** Set when the request must be answered 429 with this body. */
  limited?: { body: { message: string; retry_after: number; global: boolean; code?: number }; injected: boolean };
}

interface Bucket {
  count: number;
  resetAt: number;
}

interface Injection {
  matcher: RouteMatcher;
  remaining: number;
  retryAfterMs: number;
  global: boolean;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #injections: Injection[] = [];

  constructor(
    private readonly policy: RateLimitPolicy,
    private readonly clock: Clock,
  ) {}

  inject(matcher: RouteMatcher, options: InjectedLimitOptions = {}): void {
    this.#injections.push({
      matcher,
      remaining: options.times ?? 1,
      retryAfterMs: options.retryAfterMs ?? 100,
      global: options.global ?? false,
    });
  }

  /** Counts the request against its bucket; `majorKey` is the channel/guild/webhook it targets. */
  check(route: string, method: string, path: string, majorKey: string): RateLimitDecision {
    const now = this.clock.now();
    const hash = bucketHash(route);
    const injected = this.#takeInjection(route, `${method} ${path}`);
    if (injected) {
      const seconds = injected.retryAfterMs / 1000;
      const headers: Record<string, string> = {
        'retry-after': String(seconds),
        'x-ratelimit-scope': injected.global ? 'global' : 'user',
      };
      if (injected.global) headers['x-ratelimit-global'] = 'true';
      else Object.assign(headers, bucketHeaders(this.policy.limit, 0, now + injected.retryAfterMs, now, hash));
      return {
        headers,
        limited: { body: { message: 'You are being rate limited.', retry_after: seconds, global: injected.global }, injected: true },
      };
    }
    const key = `${route}|${majorKey}`;
    let bucket = this.#buckets.get(key);
    if (!bucket || now >= bucket.resetAt) {
      bucket = { count: 0, resetAt: now + this.policy.windowMs };
      this.#buckets.set(key, bucket);
    }
    bucket.count += 1;
    const remaining = Math.max(0, this.policy.limit - bucket.count);
    const headers = bucketHeaders(this.policy.limit, remaining, bucket.resetAt, now, hash);
    if (bucket.count <= this.policy.limit) return { headers };
    const seconds = Math.max(0, bucket.resetAt - now) / 1000;
    return {
      headers: { ...headers, 'retry-after': String(seconds), 'x-ratelimit-scope': 'user' },
      limited: { body: { message: 'You are being rate limited.', retry_after: seconds, global: false }, injected: false },
    };
  }

  #takeInjection(route: string, methodAndPath: string): Injection | undefined {
    const injection = this.#injections.find((i) =>
      typeof i.matcher === 'string' ? i.matcher === route : i.matcher.test(methodAndPath),
    );
    if (!injection) return undefined;
    injection.remaining -= 1;
    if (injection.remaining <= 0) this.#injections.splice(this.#injections.indexOf(injection), 1);
    return injection;
  }
}

function bucketHeaders(limit: number, remaining: number, resetAt: number, now: number, hash: string): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
    'x-ratelimit-reset-after': (Math.max(0, resetAt - now) / 1000).toFixed(3),
    'x-ratelimit-bucket': hash,
  };
}

function bucketHash(route: string): string {
  return createHash('sha256').update(route).digest('hex').slice(0, 32);
}

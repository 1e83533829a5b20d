/**
 * Delivers a JSON payload to an outgoing webhook: the URL and every address
 * its host resolves to are checked before each attempt (./webhook-url.ts),
 * each attempt has a timeout, failures that may pass (timeouts, connection
 * errors, 408, 429, 5xx) are retried with bounded exponential backoff
 * (honouring Retry-After up to the cap), and each target has its own
 * circuit breaker, so a dead receiver is not hammered. A refused URL or
 * another 4xx ends the delivery at once. Nothing here logs or returns the
 * URL's path or query: a Discord or Slack webhook URL is a credential.
 */
import { CircuitBreaker } from '../resilience/circuit-breaker.ts';
import { systemClock, type Clock } from '../resilience/clock.ts';
import { jitteredBackoff, parseRetryAfter, sleep as realSleep } from '../resilience/backoff.ts';
import { messageOf } from '../log/error-message.ts';
import { postJson } from './post-json.ts';
import { parseWebhookUrl, pinWebhookTarget, WebhookRefusedError, WebhookResolveError, type PinnedTarget, type ResolveHost } from './webhook-url.ts';

export interface WebhookDeliveryOptions {
  /** Per attempt, connection to answer (default 10 s). */
  timeoutMs?: number;
  /** Attempts in all, 1-10 (default 4). */
  maxAttempts?: number;
  /** First backoff (default 1 s); doubles each retry, with jitter, up to `backoffMaxMs` (default 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  breaker?: { failureThreshold?: number; failureWindowMs?: number; coolDownMs?: number };
  /** Largest JSON body sent (default 64 KiB). */
  maxBodyBytes?: number;
  resolve?: ResolveHost;
  clock?: Clock;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * For tests only, and never reachable from configuration: trust this CA and
   * let loopback addresses through, so a local https receiver can stand in
   * for the internet. Only code can pass it: no plugin setting or variable
   * reaches it (summary-webhook's factory never does).
   */
  unsafeTestOnly?: { ca?: string | Buffer; allowLoopback?: boolean };
}

export type DeliveryResult =
  | { ok: true; attempts: number; status: number }
  /** `permanent`: retrying later would not help (a refused URL, a 4xx). */
  | { ok: false; attempts: number; reason: string; permanent: boolean };

export interface WebhookDelivery {
  deliver(url: string, payload: unknown, options?: { signal?: AbortSignal }): Promise<DeliveryResult>;
}

const MAX_TARGETS = 256;

export function createWebhookDelivery(options: WebhookDeliveryOptions = {}): WebhookDelivery {
  const testOnly = options.unsafeTestOnly;
  const timeoutMs = bounded(options.timeoutMs ?? 10_000, 100, 120_000, 'timeoutMs');
  const maxAttempts = bounded(options.maxAttempts ?? 4, 1, 10, 'maxAttempts');
  const baseMs = bounded(options.backoffBaseMs ?? 1_000, 0, 600_000, 'backoffBaseMs');
  const maxMs = bounded(options.backoffMaxMs ?? 30_000, baseMs, 3_600_000, 'backoffMaxMs');
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const breakerOptions = {
    failureThreshold: options.breaker?.failureThreshold ?? 5,
    failureWindowMs: options.breaker?.failureWindowMs ?? 60_000,
    coolDownMs: options.breaker?.coolDownMs ?? 300_000,
    clock,
  };
  // Keyed by the whole URL in memory only; the oldest is dropped past MAX_TARGETS.
  const breakers = new Map<string, CircuitBreaker>();
  const breakerFor = (url: string, label: string): CircuitBreaker => {
    let breaker = breakers.get(url);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(label, breakerOptions);
      breakers.set(url, breaker);
      if (breakers.size > MAX_TARGETS) breakers.delete(breakers.keys().next().value as string);
    }
    return breaker;
  };

  /** Waits before the next attempt; false when cancelled meanwhile. */
  async function pause(attempts: number, retryAfterMs: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const backoff = jitteredBackoff(attempts - 1, baseMs, maxMs, random);
    try {
      await sleep(Math.min(maxMs, Math.max(backoff, retryAfterMs ?? 0)), signal);
      return true;
    } catch {
      return false;
    }
  }

  return {
    async deliver(url, payload, callOptions = {}) {
      const body = Buffer.from(JSON.stringify(payload));
      if (body.length > maxBodyBytes) return { ok: false, attempts: 0, reason: `the payload is ${body.length} bytes; the most sent is ${maxBodyBytes}`, permanent: true };
      let label: string;
      try {
        label = parseWebhookUrl(url, { allowLoopback: testOnly?.allowLoopback === true }).hostname;
      } catch (error) {
        if (error instanceof WebhookRefusedError) return { ok: false, attempts: 0, reason: error.message, permanent: true };
        throw error;
      }
      const breaker = breakerFor(url, label);
      let attempts = 0;
      let last = '';
      while (attempts < maxAttempts) {
        if (callOptions.signal?.aborted) return { ok: false, attempts, reason: 'the delivery was cancelled', permanent: true };
        // Before resolving: an open circuit costs the receiver and the resolver nothing.
        if (!breaker.tryAcquire()) {
          const after = attempts === 0 ? '' : ` (${last})`;
          return { ok: false, attempts, reason: `the circuit for ${label} is open after repeated failures${after}; it lets a delivery through again at ${new Date(breaker.retryAt).toISOString()}`, permanent: false };
        }
        let target: PinnedTarget;
        try {
          target = await pinWebhookTarget(url, {
            ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
            ...(testOnly?.allowLoopback === true ? { allowLoopback: true } : {}),
          });
        } catch (error) {
          // Releases a half-open probe, and counts a host that stopped resolving or now points inside.
          breaker.recordFailure();
          if (!(error instanceof WebhookResolveError)) {
            if (error instanceof WebhookRefusedError) return { ok: false, attempts, reason: error.message, permanent: true };
            throw error;
          }
          attempts += 1;
          last = error.message;
          if (attempts >= maxAttempts) break;
          if (!(await pause(attempts, undefined, callOptions.signal))) return { ok: false, attempts, reason: 'the delivery was cancelled', permanent: true };
          continue;
        }
        attempts += 1;
        let retryAfterMs: number | undefined;
        const signal = callOptions.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([callOptions.signal, AbortSignal.timeout(timeoutMs)]);
        try {
          const answer = await postJson(target, body, { signal, ca: testOnly?.ca });
          if (answer.status >= 200 && answer.status < 300) {
            breaker.recordSuccess();
            return { ok: true, attempts, status: answer.status };
          }
          breaker.recordFailure();
          last = `${label} answered ${answer.status}`;
          if (!(answer.status === 408 || answer.status === 429 || answer.status >= 500)) return { ok: false, attempts, reason: last, permanent: true };
          retryAfterMs = parseRetryAfter(answer.retryAfter, clock.now());
        } catch (error) {
          breaker.recordFailure();
          last = signal.aborted && callOptions.signal?.aborted !== true ? `${label} did not answer within ${timeoutMs} ms` : `${label}: ${messageOf(error)}`;
        }
        if (attempts >= maxAttempts) break;
        if (!(await pause(attempts, retryAfterMs, callOptions.signal))) return { ok: false, attempts, reason: 'the delivery was cancelled', permanent: true };
      }
      return { ok: false, attempts, reason: `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}`, permanent: false };
    },
  };
}

function bounded(value: number, min: number, max: number, name: string): number {
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`webhook delivery option ${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

import type { Clock } from '../../resilience/clock.ts';
import { jitteredBackoff, sleep } from '../../resilience/backoff.ts';
import type { FailureContext, HeaderBag, RequestCounter } from './github-http.ts';
import { header, isHttpFailure, isTimeoutError, networkReason, quotaExhaustedUntil, sourceErrorFromStatus } from './github-http.ts';
import type { RateLimitGate } from './rate-limit-gate.ts';
import { SourceError } from './source.ts';

export interface RetryPolicy {
  /** Retries after the first attempt, across the whole refresh. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
}

interface RefreshRunOptions {
  gate: RateLimitGate;
  gateKey: string;
  clock: Clock;
  requestTimeoutMs: number;
  budgetMs: number;
  retry: RetryPolicy;
  onRequest: RequestCounter | undefined;
  label: string;
  anonymous: boolean;
  notFoundHint?: string;
  callerSignal: AbortSignal | undefined;
}

/** The minimal response shape the run inspects. */
export interface ResponseLike {
  status: number;
  headers: HeaderBag;
}

/** A 304 answer to a conditional request. */
export class NotModified {
  constructor(readonly etag: string | undefined) {}
}

/**
 * One refresh of one repository: a single time budget shared by all its
 * requests, a per-request timeout, a bounded number of retries for failures
 * that may pass (5xx, network, per-request timeouts), and no request at all
 * while the credential is rate limited. Retries never start when their
 * back-off would end past the budget.
 */
export class RefreshRun {
  /** Aborts when the caller aborts or the budget runs out. */
  readonly signal: AbortSignal;
  private readonly budgetSignal: AbortSignal;
  // The budget is enforced by real timers, so it is measured on the monotonic
  // clock; the injected Clock is for rate-limit times, which GitHub states in wall time.
  private readonly deadline: number;
  private retriesLeft: number;

  constructor(private readonly options: RefreshRunOptions) {
    this.budgetSignal = AbortSignal.timeout(options.budgetMs);
    this.signal = options.callerSignal === undefined ? this.budgetSignal : AbortSignal.any([options.callerSignal, this.budgetSignal]);
    this.deadline = performance.now() + options.budgetMs;
    this.retriesLeft = options.retry.maxRetries;
  }

  /**
   * Sends one request through `send`, retrying when that may help. Throws a
   * SourceError, or NotModified for a 304. `api: false` marks a request
   * GitHub does not rate-limit (the archive download): it is neither held
   * back by the gate nor read for quota headers.
   */
  async call<T extends ResponseLike>(
    route: string,
    what: string,
    send: (signal: AbortSignal) => Promise<T>,
    { api = true }: { api?: boolean } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      if (api) this.checkGate();
      const signal = AbortSignal.any([this.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]);
      let failure: SourceError;
      let retryable: boolean;
      try {
        const response = await send(signal);
        this.count(response.status, route);
        if (api) this.observeQuota(response.headers);
        return response;
      } catch (error) {
        if (isHttpFailure(error) && error.status === 304) {
          this.count(304, route);
          this.observeQuota(error.response.headers);
          throw new NotModified(header(error.response.headers, 'etag'));
        }
        ({ failure, retryable } = this.classify(error, route, what));
      }
      if (failure.kind === 'rate-limited' && failure.retryAt !== undefined) {
        this.options.gate.block(this.options.gateKey, failure.retryAt);
      }
      if (!retryable || this.retriesLeft <= 0) throw failure;
      const delay = jitteredBackoff(attempt, this.options.retry.baseDelayMs, this.options.retry.maxDelayMs, this.options.retry.random);
      if (performance.now() + delay >= this.deadline) throw failure;
      this.retriesLeft -= 1;
      try {
        await sleep(delay, this.signal);
      } catch {
        throw this.abortError(route);
      }
    }
  }

  /** Maps an error thrown while a body was being read, preferring our own aborts over what the stream saw. */
  abortOr(error: unknown, route: string): unknown {
    return this.signal.aborted ? this.abortError(route) : error;
  }

  private classify(error: unknown, route: string, what: string): { failure: SourceError; retryable: boolean } {
    if (this.signal.aborted) {
      this.count('timeout', route);
      return { failure: this.abortError(route), retryable: false };
    }
    if (isHttpFailure(error)) {
      this.count(error.status, route);
      const context: FailureContext = {
        label: this.options.label,
        what,
        anonymous: this.options.anonymous,
        now: this.options.clock.now(),
        ...(this.options.notFoundHint === undefined ? {} : { notFoundHint: this.options.notFoundHint }),
      };
      const failure = sourceErrorFromStatus(error, context);
      return { failure, retryable: failure.kind === 'server' && error.status >= 500 };
    }
    if (error instanceof SourceError) return { failure: error, retryable: false };
    if (isTimeoutError(error)) {
      this.count('timeout', route);
      return {
        failure: new SourceError('timeout', `GitHub did not answer within ${this.options.requestTimeoutMs} ms while reading ${this.options.label}.`),
        retryable: true,
      };
    }
    this.count('network', route);
    return {
      failure: new SourceError('network', `Could not reach GitHub while reading ${this.options.label} (${networkReason(error)}).`),
      retryable: true,
    };
  }

  private abortError(route: string): SourceError {
    if (this.options.callerSignal?.aborted === true) {
      return new SourceError('aborted', `Reading ${this.options.label} was cancelled (${route}).`);
    }
    return new SourceError('timeout', `Reading ${this.options.label} took longer than its ${this.options.budgetMs} ms budget.`);
  }

  private checkGate(): void {
    const until = this.options.gate.blockedUntil(this.options.gateKey);
    if (until !== undefined) {
      throw new SourceError(
        'rate-limited',
        `GitHub rate limit for these credentials is used up; ${this.options.label} will be read again after ${new Date(until).toISOString()}.`,
        { retryAt: until },
      );
    }
  }

  private observeQuota(headers: HeaderBag): void {
    const until = quotaExhaustedUntil(headers, this.options.clock.now());
    if (until !== undefined) this.options.gate.block(this.options.gateKey, until);
  }

  private count(status: number | 'network' | 'timeout', route: string): void {
    this.options.onRequest?.(status, route);
  }
}

import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Failures inside `failureWindowMs` that open the circuit. */
  failureThreshold: number;
  /** Only failures this recent count; older ones are forgotten. */
  failureWindowMs: number;
  /** How long the circuit stays open before one probe is let through. */
  coolDownMs: number;
  clock?: Clock;
  onStateChange?: (state: CircuitState) => void;
}

/**
 * A breaker that works for a group of one: when it is open, callers get an
 * answer at once instead of waiting on a target that is known to be failing,
 * and after the cool-down exactly one probe decides whether it closes again.
 */
export class CircuitBreaker {
  private failures: number[] = [];
  private openedAt = 0;
  private probeInFlight = false;
  private current: CircuitState = 'closed';
  private readonly clock: Clock;

  constructor(
    readonly target: string,
    private readonly options: CircuitBreakerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  get state(): CircuitState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.options.coolDownMs) {
      return 'half-open';
    }
    return this.current;
  }

  /** When an open circuit lets its next probe through (ms since epoch), or 0 when closed. */
  get retryAt(): number {
    return this.current === 'closed' ? 0 : this.openedAt + this.options.coolDownMs;
  }

  /**
   * Ask to make a call. Returns false when the circuit is open, or half-open
   * with its single probe already out.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    this.setState('half-open');
    return true;
  }

  recordSuccess(): void {
    this.probeInFlight = false;
    this.failures = [];
    this.setState('closed');
  }

  recordFailure(): void {
    const now = this.clock.now();
    if (this.probeInFlight || this.current === 'half-open') {
      this.probeInFlight = false;
      this.open(now);
      return;
    }
    this.failures.push(now);
    const horizon = now - this.options.failureWindowMs;
    while (this.failures.length > 0 && (this.failures[0] ?? 0) < horizon) this.failures.shift();
    if (this.failures.length >= this.options.failureThreshold) this.open(now);
  }

  /** Releases a probe that ended neither in success nor failure (e.g. the caller aborted). */
  releaseProbe(): void {
    this.probeInFlight = false;
  }

  private open(now: number): void {
    this.openedAt = now;
    this.failures = [];
    this.setState('open');
  }

  private setState(state: CircuitState): void {
    if (this.current === state) return;
    this.current = state;
    this.options.onStateChange?.(state);
  }
}

import type { Clock } from '../../resilience/clock.ts';

/**
 * Remembers until when GitHub told us to stop, per credential scope. While a
 * scope is limited, callers fail fast instead of spending requests GitHub
 * would refuse (and that could get the credential blocked for longer).
 */
export interface RateLimitGate {
  /** The time (ms since epoch) the scope may call again, or undefined when it may call now. */
  blockedUntil(key: string): number | undefined;
  /** Blocks the scope until `until`; an earlier `until` than the current block is ignored. */
  block(key: string, until: number): void;
}

export class InMemoryRateLimitGate implements RateLimitGate {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  blockedUntil(key: string): number | undefined {
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    if (this.clock.now() >= until) {
      this.until.delete(key);
      return undefined;
    }
    return until;
  }

  block(key: string, until: number): void {
    const current = this.until.get(key);
    if (current === undefined || until > current) this.until.set(key, until);
  }
}

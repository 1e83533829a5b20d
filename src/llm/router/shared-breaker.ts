import type { CircuitBreaker, CircuitState } from '../../resilience/circuit-breaker.ts';
import type { Clock } from '../../resilience/clock.ts';
import type { SharedTargets } from './shared-targets.ts';

/** How long a claimed half-open probe is held before another process may take it (its holder may have died). */
export const PROBE_LEASE_MS = 60_000;

/**
 * A target's breaker as every process sees it: this process's own breaker
 * decides when to open (its failure counting is unchanged), and its openings
 * and closings are shared, so the others stop calling a dead target too and
 * exactly one process across the deployment sends the half-open probe.
 */
export class SharedBreaker {
  /** This process holds the deployment's probe for the target. */
  private sharedProbe = false;

  constructor(
    readonly local: CircuitBreaker,
    private readonly shared: SharedTargets,
    readonly target: string,
    readonly guildId: string | undefined,
    private readonly coolDownMs: number,
    private readonly clock: Clock,
  ) {}

  get state(): CircuitState {
    const own = this.local.state;
    if (own !== 'closed') return own;
    const until = this.shared.openUntil(this.target, this.guildId);
    if (until === undefined) return 'closed';
    return until > this.clock.now() ? 'open' : 'half-open';
  }

  /** When the next probe may go (ms since epoch); 0 when closed everywhere. */
  get retryAt(): number {
    return Math.max(this.local.retryAt, this.shared.openUntil(this.target, this.guildId) ?? 0);
  }

  /** Ask to make a call: false while open here or elsewhere, or while the probe is out. */
  async acquire(): Promise<boolean> {
    if (!this.local.tryAcquire()) return false;
    const until = this.shared.openUntil(this.target, this.guildId);
    if (until === undefined) return true;
    if (until <= this.clock.now() && (await this.shared.claimProbe(this.target, this.guildId, PROBE_LEASE_MS))) {
      this.sharedProbe = true;
      return true;
    }
    this.local.releaseProbe();
    return false;
  }

  recordSuccess(): void {
    this.local.recordSuccess();
    if (this.sharedProbe || this.shared.openUntil(this.target, this.guildId) !== undefined) {
      this.shared.noteClosed(this.target, this.guildId);
    }
    this.sharedProbe = false;
  }

  recordFailure(): void {
    const before = this.local.retryAt;
    this.local.recordFailure();
    const opened = this.local.state === 'open' && this.local.retryAt !== before;
    if (opened) this.shared.noteOpened(this.target, this.guildId, this.local.retryAt);
    else if (this.sharedProbe) this.shared.noteOpened(this.target, this.guildId, this.clock.now() + this.coolDownMs);
    this.sharedProbe = false;
  }

  /** A probe that ended neither in success nor failure (the caller left, the request was refused). */
  releaseProbe(): void {
    this.local.releaseProbe();
    if (this.sharedProbe) this.shared.releaseProbe(this.target, this.guildId);
    this.sharedProbe = false;
  }
}

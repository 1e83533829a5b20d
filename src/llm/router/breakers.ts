import { CircuitBreaker, type CircuitState } from '../../resilience/circuit-breaker.ts';
import type { Clock } from '../../resilience/clock.ts';
import { deploymentId } from './deployments.ts';
import { SharedBreaker } from './shared-breaker.ts';
import { LocalTargets, type SharedTargets } from './shared-targets.ts';
import type { BreakerSettings, Target } from './types.ts';

export const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, failureWindowMs: 60_000, coolDownMs: 30_000 };

export interface CircuitSnapshot {
  /** `provider/model`. */
  target: string;
  /** 'operator' for the shared credential, else the guild whose own key this circuit tracks. */
  scope: 'operator' | { guildId: string };
  state: CircuitState;
  /** When an open circuit lets a probe through (ms since epoch); 0 when closed. */
  retryAt: number;
}

interface Entry {
  breaker: SharedBreaker;
  settings: BreakerSettings;
  target: string;
  guildId: string | undefined;
}

/**
 * One breaker per target and credential. A guild's own key has its own rate
 * limits and its own failures: a guild hammering its key into 429s must not
 * cool the target down for every other guild, so those calls get a separate
 * circuit. The bank outlives a router, so a configuration reload that builds a
 * new router keeps what the breakers have learnt.
 */
export class BreakerBank {
  private readonly entries = new Map<string, Entry>();
  /** Cooldowns and circuit transitions every process sees; in memory when there is only this one. */
  readonly shared: SharedTargets;

  constructor(
    private readonly defaults: BreakerSettings,
    private readonly clock: Clock,
    shared?: SharedTargets,
  ) {
    this.shared = shared ?? new LocalTargets(() => clock.now());
  }

  /** `guildId` only when the call uses that guild's own key. */
  get(target: Target, guildId: string | undefined): SharedBreaker {
    // Two keys for one model are two deployments, each with its own rate limits and failures.
    const name = deploymentId(target);
    const key = guildId === undefined ? name : `${name}\u0000${guildId}`;
    const o = target.breaker;
    const d = this.defaults;
    const failureThreshold = o?.failureThreshold ?? d.failureThreshold;
    const failureWindowMs = o?.failureWindowMs ?? d.failureWindowMs;
    const coolDownMs = o?.coolDownMs ?? d.coolDownMs;
    const entry = this.entries.get(key);
    if (
      entry !== undefined &&
      entry.settings.failureThreshold === failureThreshold &&
      entry.settings.failureWindowMs === failureWindowMs &&
      entry.settings.coolDownMs === coolDownMs
    ) {
      return entry.breaker;
    }
    // New target, or its settings changed under a reload: start afresh with the current ones.
    const settings: BreakerSettings = { failureThreshold, failureWindowMs, coolDownMs };
    const breaker = new SharedBreaker(new CircuitBreaker(name, { ...settings, clock: this.clock }), this.shared, name, guildId, coolDownMs, this.clock);
    this.entries.set(key, { breaker, settings, target: name, guildId });
    return breaker;
  }

  /** Every circuit this process has used, as the deployment sees it, plus circuits only other processes have opened. */
  snapshot(): CircuitSnapshot[] {
    const out: CircuitSnapshot[] = [];
    const seen = new Set<string>();
    for (const [key, e] of this.entries) {
      seen.add(key);
      out.push({
        target: e.target,
        scope: e.guildId === undefined ? 'operator' : { guildId: e.guildId },
        state: e.breaker.state,
        retryAt: e.breaker.retryAt,
      });
    }
    const now = this.clock.now();
    for (const row of this.shared.rows()) {
      if (row.openUntil === undefined) continue;
      if (seen.has(row.guildId === undefined ? row.target : `${row.target}\u0000${row.guildId}`)) continue;
      out.push({
        target: row.target,
        scope: row.guildId === undefined ? 'operator' : { guildId: row.guildId },
        state: row.openUntil > now ? 'open' : 'half-open',
        retryAt: row.openUntil,
      });
    }
    return out;
  }
}

import type { CircuitBreakerOptions } from '../../resilience/circuit-breaker.ts';
import { CircuitBreaker } from '../../resilience/circuit-breaker.ts';

/** Hands out one circuit breaker per target (a repository), created on first use. */
export interface BreakerRegistry {
  get(target: string): CircuitBreaker;
}

/** Defaults for GitHub repositories: 5 outage failures within a minute open the circuit for 30 s. */
const defaultRepoBreakerOptions: CircuitBreakerOptions = {
  failureThreshold: 5,
  failureWindowMs: 60_000,
  coolDownMs: 30_000,
};

/**
 * Breakers kept in a map bounded by `maxTargets`; past it the oldest breaker
 * is forgotten, which at worst gives a failing repository a fresh start.
 */
export function createBreakerRegistry(
  options: CircuitBreakerOptions = defaultRepoBreakerOptions,
  maxTargets = 10_000,
): BreakerRegistry {
  const breakers = new Map<string, CircuitBreaker>();
  return {
    get(target: string): CircuitBreaker {
      let breaker = breakers.get(target);
      if (breaker === undefined) {
        if (breakers.size >= maxTargets) {
          const oldest = breakers.keys().next();
          if (oldest.done !== true) breakers.delete(oldest.value);
        }
        breaker = new CircuitBreaker(target, options);
        breakers.set(target, breaker);
      }
      return breaker;
    },
  };
}

/**
 * Models a provider has said it no longer serves (404, `not_found_error`,
 * `model_not_found`). Calls pass them over for a while instead of asking
 * again on every request; after the hold the model is tried once more, so
 * an operator who fixes a typo or a provider that restores a model is
 * noticed without a restart.
 */
import type { Clock } from '../../resilience/clock.ts';

/** How long a model reported gone is passed over. */
export const DEFAULT_MODEL_HOLD_MS = 10 * 60 * 1000;

export class ModelAvailability {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly holdMs = DEFAULT_MODEL_HOLD_MS,
  ) {}

  /** Marks the model gone; returns until when (ms since epoch). */
  markUnavailable(provider: string, model: string): number {
    const until = this.clock.now() + this.holdMs;
    this.until.set(keyOf(provider, model), until);
    return until;
  }

  /** Until when the model is passed over, or undefined when it may be called. */
  unavailableUntil(provider: string, model: string): number | undefined {
    const key = keyOf(provider, model);
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    if (until > this.clock.now()) return until;
    this.until.delete(key);
    return undefined;
  }
}

function keyOf(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

/**
 * Durations as members type them: `30m`, `2h`, `3d`, `1w`, or combined
 * (`1h30m`). Units: s, m, h, d, w.
 */

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

interface DurationOptions {
  /** Largest accepted duration in ms (default: 366 days). */
  max?: number;
}

const WHOLE = /^(?:\d+\s*[smhdw]\s*)+$/i;
const PART = /(\d+)\s*([smhdw])/gi;
const DEFAULT_MAX = 366 * UNIT_MS['d']!;

/** @throws DurationError with a message suitable to show the member. */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const input = text.trim();
  const shown = JSON.stringify(input.length > 30 ? `${input.slice(0, 30)}…` : input);
  if (input === '') throw new DurationError('the duration is empty; write it like 30m, 2h, 3d or 1w');
  if (input.length > 40) throw new DurationError(`${shown} is too long for a duration; write it like 30m, 2h, 3d or 1w`);
  if (!WHOLE.test(input)) {
    const hint = /^\d+$/.test(input) ? ' (add a unit: s, m, h, d or w)' : '';
    throw new DurationError(`${shown} is not a duration${hint}; write it like 30m, 2h, 3d, 1w or 1h30m`);
  }
  let total = 0;
  for (const [, amount, unit] of input.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit!.toLowerCase()]!;
  }
  const max = options.max ?? DEFAULT_MAX;
  if (total <= 0) throw new DurationError(`${shown} is zero; a duration must be longer than that`);
  if (!Number.isSafeInteger(total) || total > max) throw new DurationError(`${shown} is longer than the maximum of ${describeDuration(max)}`);
  return total;
}

/** The largest whole unit that fits, for messages: `366d`, `2h`. */
function describeDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

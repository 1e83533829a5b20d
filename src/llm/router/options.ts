import { DEFAULT_BREAKER } from './breakers.ts';
import type { PromptBounds } from './prompt-bounds.ts';
import type { BreakerSettings, RoutingStrategy, Task } from './types.ts';

export interface TimeoutSettings {
  /**
   * Streaming: from sending to the provider's first event (headers and first
   * byte, as the contract surfaces them). `generate` has no earlier signal than
   * the whole answer, so there `attemptMs` is what bounds a silent backend.
   */
  connectMs: number;
  /** Streaming: from sending to the first text. */
  firstTokenMs: number;
  /** One attempt at one target, start to last byte. */
  attemptMs: number;
  /** The whole call: every attempt and every backoff wait. */
  totalMs: number;
}

export interface RetrySettings {
  /** Rounds over the failed targets after the first pass; 0 means fallbacks only. */
  rounds: number;
  baseMs: number;
  maxMs: number;
}

export interface RouterOptions {
  timeouts?: Partial<TimeoutSettings> & { perTask?: Partial<Record<Task, Partial<TimeoutSettings>>> };
  retry?: Partial<RetrySettings>;
  /** Defaults for every target's breaker; a target may override them. Ignored when a BreakerBank is passed in. */
  breaker?: Partial<BreakerSettings>;
  /** For hooks that set no timeout of their own. */
  hookTimeoutMs?: number;
  /** What a prompt's front matter may pick per task when the operator's key pays; absent means anything the plan offers. */
  promptBounds?: PromptBounds | undefined;
  /** How each task orders a model group's deployments; default `ordered` (weighted random). */
  strategies?: { [T in Task]?: RoutingStrategy | undefined };
  /**
   * HTTP statuses that move a call on to the next target. A failure with
   * another status ends the call with it. Undefined: every failure another
   * target may fix moves on (the built-in classification).
   */
  fallbackOn?: readonly number[] | undefined;
}

const DEFAULT_TIMEOUTS: TimeoutSettings = {
  connectMs: 15_000,
  firstTokenMs: 45_000,
  attemptMs: 120_000,
  totalMs: 180_000,
};

const DEFAULT_RETRY: RetrySettings = { rounds: 2, baseMs: 500, maxMs: 8_000 };

interface ResolvedOptions {
  timeouts: ReadonlyMap<Task, TimeoutSettings>;
  retry: RetrySettings;
  breaker: BreakerSettings;
  hookTimeoutMs: number;
  strategies: ReadonlyMap<Task, RoutingStrategy>;
  fallbackOn: ReadonlySet<number> | undefined;
}

const STRATEGIES: readonly RoutingStrategy[] = ['ordered', 'least-busy', 'latency'];

const TASKS: readonly Task[] = ['summarize', 'summarize-map', 'chat'];

/** Merged once at construction, so a call only does a map lookup. */
export function resolveOptions(options: RouterOptions = {}): ResolvedOptions {
  const { perTask, ...common } = options.timeouts ?? {};
  const base = { ...DEFAULT_TIMEOUTS, ...defined(common) };
  const timeouts = new Map<Task, TimeoutSettings>();
  for (const task of TASKS) timeouts.set(task, check({ ...base, ...defined(perTask?.[task] ?? {}) }, task));
  const retry = { ...DEFAULT_RETRY, ...defined(options.retry ?? {}) };
  if (!(retry.rounds >= 0) || !(retry.baseMs >= 0) || !(retry.maxMs >= retry.baseMs)) {
    throw new RangeError(`router retry settings are inconsistent: ${JSON.stringify(retry)}`);
  }
  const breaker = { ...DEFAULT_BREAKER, ...defined(options.breaker ?? {}) };
  if (!(breaker.failureThreshold >= 1) || !(breaker.failureWindowMs > 0) || !(breaker.coolDownMs >= 0)) {
    throw new RangeError(`router breaker settings are inconsistent: ${JSON.stringify(breaker)}`);
  }
  const strategies = new Map<Task, RoutingStrategy>();
  for (const task of TASKS) {
    const strategy = options.strategies?.[task] ?? 'ordered';
    if (!STRATEGIES.includes(strategy)) {
      throw new RangeError(`router strategy for task "${task}" must be one of ${STRATEGIES.join(', ')} (got ${JSON.stringify(strategy)})`);
    }
    strategies.set(task, strategy);
  }
  let fallbackOn: Set<number> | undefined;
  if (options.fallbackOn !== undefined) {
    for (const status of options.fallbackOn) {
      if (!(Number.isInteger(status) && status >= 400 && status <= 599)) {
        throw new RangeError(`router fallback_on must list HTTP statuses 400-599 (got ${JSON.stringify(status)})`);
      }
    }
    fallbackOn = new Set(options.fallbackOn);
  }
  return { timeouts, retry, breaker, hookTimeoutMs: options.hookTimeoutMs ?? 2_000, strategies, fallbackOn };
}

function check(t: TimeoutSettings, task: Task): TimeoutSettings {
  for (const [name, value] of Object.entries(t)) {
    if (!(typeof value === 'number' && value > 0)) {
      throw new RangeError(`router timeout ${name} for task "${task}" must be a positive number of ms (got ${String(value)})`);
    }
  }
  return t;
}

/** Drops undefined entries so a spread never overwrites a default with undefined. */
function defined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

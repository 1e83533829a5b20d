/**
 * Small but real backends and an in-memory world for router tests. The
 * backends behave like the real ones do from the router's side: they count
 * tokens, enforce their context window and keys, fail with ProviderError
 * kinds during an outage, stream deltas and stop when their signal aborts.
 */
import { Registry } from 'prom-client';
import type { CallContext, PluginLogger } from '../../src/llm/plugin-host/types.ts';
import {
  ProviderError,
  estimateTokens,
  type GenerateRequest,
  type GenerateResponse,
  type ModelInfo,
  type Provider,
  type ProviderErrorKind,
  type StreamEvent,
} from '../../src/llm/provider-spec/contract.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { createKeyResolver } from '../../src/llm/router/key-resolver.ts';
import { createRouterMetrics } from '../../src/llm/router/metrics.ts';
import type { RouterOptions } from '../../src/llm/router/options.ts';
import { createRouter, type RouterDeps } from '../../src/llm/router/router.ts';
import { createSpendGuard, nextUtcMidnight, type SpendStore } from '../../src/llm/router/spend-guard.ts';
import type { BucketSettings } from '../../src/llm/router/token-bucket.ts';
import type { Target, TaskRequest, UsageRecord, UsageSink } from '../../src/llm/router/types.ts';

export function model(id: string, contextWindow = 100_000, prices: [number, number] = [3, 15]): ModelInfo {
  return { id, contextWindow, maxOutputTokens: 4_096, streaming: true, inputPricePerMTok: prices[0], outputPricePerMTok: prices[1] };
}

export interface Fault {
  kind: ProviderErrorKind;
  status?: number;
  retryAfterMs?: number;
}

const STATUS: Partial<Record<ProviderErrorKind, number>> = {
  rate_limited: 429,
  overloaded: 529,
  server: 500,
  auth: 401,
  bad_request: 400,
  unsupported_parameter: 400,
  model_unavailable: 404,
  context_length: 400,
};

export interface BackendOptions {
  requiresKey?: boolean;
  /** Keys the backend accepts; others are rejected with 401 like a real API. */
  acceptedKeys?: string[];
  /** The window the backend really enforces, when it is smaller than the one it advertises. */
  realWindow?: number;
  /** Stream: a network failure after this many text deltas. */
  dropAfterDeltas?: number;
  /** Stream: wait (for the signal) before the first delta, like a stuck backend. */
  stallBeforeFirstToken?: boolean;
  /** Generate: never answers until aborted. */
  stall?: boolean;
}

/** Every call to any backend, in order, as "name:model". */
export type CallLog = string[];

export class TestBackend implements Provider {
  readonly calls: GenerateRequest[] = [];
  readonly requiresKey: boolean;
  private readonly outage: Fault[] = [];

  constructor(
    readonly name: string,
    readonly models: readonly ModelInfo[],
    private readonly log: CallLog,
    private readonly options: BackendOptions = {},
  ) {
    this.requiresKey = options.requiresKey ?? false;
  }

  /** The next calls fail, one fault each, as during an outage. */
  failNext(...faults: Fault[]): this {
    this.outage.push(...faults);
    return this;
  }

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    this.admit(request);
    const text = this.answer(request);
    if (this.options.stall) await untilAborted(request.signal, this.name);
    return {
      text,
      finishReason: 'stop',
      usage: { inputTokens: this.inputTokens(request), outputTokens: estimateTokens(text) },
      provider: this.name,
      model: request.model,
    };
  }

  async *stream(request: GenerateRequest): AsyncGenerator<StreamEvent> {
    this.admit(request);
    if (this.options.stallBeforeFirstToken) await untilAborted(request.signal, this.name);
    const text = this.answer(request);
    const words = text.split(/(?<= )/);
    for (const [i, word] of words.entries()) {
      if (request.signal?.aborted) throw new ProviderError('aborted', 'aborted', { provider: this.name });
      if (i === this.options.dropAfterDeltas) {
        throw new ProviderError('network', 'socket hang up', { provider: this.name, model: request.model });
      }
      await Promise.resolve();
      yield { type: 'text', delta: word };
    }
    yield {
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: this.inputTokens(request), outputTokens: estimateTokens(text) },
      provider: this.name,
      model: request.model,
    };
  }

  async health() {
    return { ok: true };
  }

  private admit(request: GenerateRequest): void {
    this.calls.push(request);
    this.log.push(`${this.name}:${request.model}`);
    if (request.signal?.aborted) throw new ProviderError('aborted', 'aborted', { provider: this.name });
    const where = { provider: this.name, model: request.model };
    if (this.requiresKey && (request.apiKey === undefined || !(this.options.acceptedKeys ?? []).includes(request.apiKey))) {
      throw new ProviderError('auth', 'invalid x-api-key', { ...where, status: 401 });
    }
    const fault = this.outage.shift();
    if (fault !== undefined) {
      throw new ProviderError(fault.kind, `${fault.kind} (simulated outage)`, {
        ...where,
        status: fault.status ?? STATUS[fault.kind],
        retryAfterMs: fault.retryAfterMs,
      });
    }
    const window = this.options.realWindow ?? this.models.find((m) => m.id === request.model)?.contextWindow ?? 0;
    if (this.inputTokens(request) + request.maxTokens > window) {
      throw new ProviderError('context_length', 'prompt is too long', { ...where, status: 400 });
    }
  }

  private inputTokens(request: GenerateRequest): number {
    return estimateTokens(request.system) + request.turns.reduce((n, t) => n + estimateTokens(t.content), 0);
  }

  /** Derived from what the backend received, so tests can see what reached it. */
  private answer(request: GenerateRequest): string {
    const last = request.turns.at(-1)?.content ?? '';
    return `${this.name} read ${request.turns.length} turns ending "${last.slice(0, 60)}"`;
  }
}

function untilAborted(signal: AbortSignal | undefined, provider: string): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(new ProviderError('aborted', 'request aborted', { provider }));
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

/** Usage kept in memory; it is also the spend store, as the database will be. */
export class UsageLedger implements UsageSink, SpendStore {
  readonly records: UsageRecord[] = [];
  readonly budgets = new Map<string, number | null>();
  spendReads = 0;

  record(entry: UsageRecord): void {
    this.records.push(entry);
  }

  async spentToday(guildId: string, now: number): Promise<number> {
    this.spendReads++;
    const since = nextUtcMidnight(now) - 86_400_000;
    return this.records
      .filter((r) => r.guildId === guildId && r.at.getTime() >= since && r.at.getTime() <= now)
      .reduce((sum, r) => sum + r.costUsd, 0);
  }

  budgetFor(guildId: string): number | null {
    return this.budgets.get(guildId) ?? null;
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string | undefined;
}

export class MemoryLogger implements PluginLogger {
  readonly entries: LogEntry[] = [];
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, msg });
  }
}

export interface WorldOptions {
  backends: TestBackend[];
  plan: Target[] | ((task: CallContext['task'], guildId: string | undefined) => Target[]);
  options?: RouterOptions;
  guildKeys?: Record<string, Record<string, string>>;
  operatorKeys?: Record<string, string>;
  operatorAllowed?: string[];
  userRate?: BucketSettings;
  guildRate?: BucketSettings;
  random?: number;
  extra?: Partial<RouterDeps>;
}

/** A router over real in-memory collaborators, with a manual clock and a sleep that only advances it. */
export function world(o: WorldOptions) {
  const clock = new ManualClock(Date.UTC(2025, 0, 15, 12, 0, 0));
  const ledger = new UsageLedger();
  const logger = new MemoryLogger();
  const registry = new Registry();
  const metrics = createRouterMetrics(registry);
  const waits: number[] = [];
  const byName = new Map(o.backends.map((b) => [b.name, b] as const));
  const unhealthy = new Set<string>();
  const deps: RouterDeps = {
    providers: { getProvider: (name) => byName.get(name), isHealthy: (name) => !unhealthy.has(name) },
    plan: typeof o.plan === 'function' ? o.plan : () => o.plan as Target[],
    keys: createKeyResolver({
      guildKey: (provider, guildId) => o.guildKeys?.[guildId]?.[provider],
      operatorKey: (provider) => o.operatorKeys?.[provider],
      mayUseOperatorKey: (guildId) => (o.operatorAllowed ?? []).includes(guildId),
    }),
    spendGuard: createSpendGuard({ store: ledger, clock, userRate: o.userRate, guildRate: o.guildRate }),
    usage: ledger,
    metrics,
    clock,
    random: () => o.random ?? 0.5,
    logger,
    sleep: async (ms, signal) => {
      waits.push(ms);
      if (signal?.aborted) throw signal.reason;
      clock.advance(ms);
    },
    options: o.options,
    ...o.extra,
  };
  const router = createRouter(deps);
  return { router, clock, ledger, logger, registry, waits, unhealthy, deps };
}

let seq = 0;
export function ctx(over: Partial<CallContext> = {}): CallContext {
  return { task: 'summarize', guildId: 'g1', userId: 'u1', correlationId: `c${++seq}`, ...over };
}

export function ask(text = 'What happened in #general today?', over: Partial<TaskRequest> = {}): TaskRequest {
  return { system: 'Summarize the conversation.', turns: [{ role: 'user', content: text }], maxTokens: 500, ...over };
}

/** Runs a promise expected to fail and hands back its error, failing the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

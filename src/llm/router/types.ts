/**
 * The router's public vocabulary: what callers hand it, what it hands back,
 * and the narrow seams it is built from. Persistence and configuration stay
 * behind these interfaces so the router never learns about databases or files.
 */
import type {
  GenerateResponse,
  Provider,
  ProviderErrorKind,
  RequestAttachments,
  Turn,
} from '../provider-spec/contract.ts';
import type { CallContext, Hooks } from '../plugin-host/types.ts';

export type Task = CallContext['task'];

/** A task-level request: what to ask, not whom; the router picks the target. */
export interface TaskRequest {
  system: string;
  turns: Turn[];
  maxTokens: number;
  temperature?: number | undefined;
  stop?: string[] | undefined;
  /** The caller giving up aborts the call at once, including any backoff wait. */
  signal?: AbortSignal | undefined;
  /** Absolute deadline (ms since epoch on the router's clock); no wait or attempt runs past it. */
  deadline?: number | undefined;
  attachments?: RequestAttachments | undefined;
  /**
   * From a prompt's front matter. Honoured only inside the task's plan (a
   * provider the plan lists, a model that provider offers), because prompts
   * come from guild repositories and must not choose what the operator pays for.
   */
  preferred?: { provider?: string | undefined; model?: string | undefined } | undefined;
}

export interface BreakerSettings {
  failureThreshold: number;
  failureWindowMs: number;
  coolDownMs: number;
}

/** One place a request can go. */
export interface Target {
  provider: string;
  model: string;
  /** Per-target breaker overrides (from config). */
  breaker?: Partial<BreakerSettings> | undefined;
  /** The model group (router.groups) this target is a deployment of; consecutive members are arranged per call. */
  group?: string | undefined;
  /** Relative share of the group's calls (default 1). */
  weight?: number | undefined;
  /**
   * The environment variable holding this deployment's own operator key, used
   * instead of the provider's when the call would spend the operator's key.
   * A name, never the key: targets travel into logs and metrics.
   */
  keyEnv?: string | undefined;
}

/**
 * How the deployments of a model group are ordered for a call: `ordered` is a
 * weighted random pick (the rest follow, also by weight), `least-busy` puts the
 * fewest calls in flight in this process first, `latency` the lowest recent
 * latency (untried deployments first). Groups and plain targets always keep the
 * configured order: these choose within a group, fallbacks go across.
 */
export type RoutingStrategy = 'ordered' | 'least-busy' | 'latency';

/** The ordered targets for a task, from config, possibly overridden per guild. */
export type TargetPlan = (task: Task, guildId: string | undefined) => readonly Target[];

/** Looked up on every call, so a configuration reload can swap providers underneath a live router. */
export interface ProviderRegistry {
  getProvider(name: string): Provider | undefined;
  /**
   * Last known health, kept current by whoever polls `Provider.health()`
   * (never polled per call). `undefined` means unknown and counts as healthy.
   */
  isHealthy?(name: string): boolean | undefined;
}

export type KeySource = 'guild' | 'operator' | 'none';

export interface KeyResolution {
  apiKey?: string;
  source: KeySource;
}

/** Decides which credential a call for a guild may use; see key-resolver.ts for the policy. */
export type KeyResolver = (
  provider: string,
  guildId: string | undefined,
  /** The deployment being called, when it brings its own operator key (`keyEnv`). */
  target?: Target,
) => KeyResolution | Promise<KeyResolution>;

/** Why a target was passed over without being called. */
export type SkipReason =
  | 'circuit_open'
  | 'provider_missing'
  | 'provider_unhealthy'
  | 'model_unknown'
  | 'model_unavailable'
  | 'no_key'
  | 'context_window'
  | 'retry_after_past_deadline'
  /** The operator's key would pay, and the guild's budget is used up. */
  | 'budget'
  /** A provider asked (Retry-After) for no calls until later; every process honours it. */
  | 'cooldown';

export interface AttemptRecord {
  provider: string;
  model: string;
  /** 0 for the first pass over the plan, then one per retry round. */
  round: number;
  status: 'ok' | 'failed' | 'skipped';
  reason?: SkipReason | ProviderErrorKind;
  /** Words for an admin: status codes, windows, times. Never a key or user text. */
  detail?: string;
  latencyMs?: number;
}

export interface RouterResponse extends GenerateResponse {
  /** Every target considered, in order, with why it was skipped or failed. */
  attempts: readonly AttemptRecord[];
  costUsd: number;
  latencyMs: number;
  keySource: KeySource;
  /** Set when a prompt asked for a provider/model the plan does not allow. */
  preferredIgnored?: string;
}

export type RouterStreamEvent =
  | { type: 'text'; delta: string }
  | { type: 'finish'; response: RouterResponse };

export type UsageOutcome =
  | 'ok'
  | `error:${string}`
  /** A failed attempt inside a call, billed because the provider had reported usage (e.g. a stream's input count). */
  | `attempt-failed:${string}`
  | 'refused:budget'
  | 'refused:rate'
  | 'unavailable';

export interface UsageRecord {
  guildId: string | null;
  userId: string | null;
  task: Task;
  provider: string | null;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from / written to the provider's prompt cache, apart from inputTokens. */
  cacheReadTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
  /** The counts are the project's estimate, not the provider's report. */
  estimated?: boolean | undefined;
  costUsd: number;
  latencyMs: number;
  outcome: UsageOutcome;
  correlationId: string;
  /** Whose key paid: a spend store may count only operator-paid calls against a budget. */
  keySource: KeySource;
  at: Date;
}

/** Must not throw into the call; the router catches and logs anyway. */
export interface UsageSink {
  record(entry: UsageRecord): void | Promise<void>;
}

/** Hooks as the plugin loader hands them over, with the plugin's name for logs. */
export type NamedHooks = Hooks & { name?: string };

/**
 * Request rates per member and per guild, counted across every process.
 * Resolves when the call may go ahead; rejects with a RouterRefusal('rate').
 */
export interface SharedLimits {
  admit(ctx: CallContext): Promise<void>;
}

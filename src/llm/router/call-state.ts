/** Per-call bookkeeping shared by the target walk and the entry points. */
import type { CallContext, CallInfo } from '../plugin-host/types.ts';
import type { GenerateRequest, ModelInfo, Provider, ProviderError, StreamEvent, Usage } from '../provider-spec/contract.ts';
import type { AttemptSignal } from './attempt-signal.ts';
import type { BudgetHold } from './budget.ts';
import type { SharedBreaker } from './shared-breaker.ts';
import type { CallSample } from './metrics.ts';
import type { TimeoutSettings } from './options.ts';
import type { AttemptRecord, KeyResolution, KeySource, Target, TaskRequest, UsageOutcome } from './types.ts';

/** A target that passed every check and is about to be called. */
export interface Candidate {
  target: Target;
  provider: Provider;
  model: ModelInfo;
  key: KeyResolution;
  breaker: SharedBreaker;
  request: GenerateRequest;
  /** The latest usage the provider's stream reported, so a failed attempt can still be billed. */
  reported?: Usage | undefined;
}

export interface TargetState {
  target: Target;
  /** Failed in a way another try may fix; eligible for retry rounds. */
  retryable: boolean;
  /** Earliest time the target asked to be tried again (retry-after). */
  readyAt: number;
  key: KeyResolution | undefined;
  /** Known once the target has been considered (it depends on whose key is used). */
  breaker: SharedBreaker | undefined;
}

/** What one call has learnt so far. Allocated once per call. */
export class CallState {
  readonly attempts: AttemptRecord[] = [];
  states: TargetState[] = [];
  processed: GenerateRequest | undefined;
  estimate = 0;
  /** After a context_length error, only larger windows are worth trying. */
  minWindow = 0;
  contextSkips = 0;
  /** Targets that refused the request itself (bad_request, unsupported_parameter). */
  refusals = 0;
  earliestOpen = Number.POSITIVE_INFINITY;
  calledAny = false;
  lastError: ProviderError | undefined;
  lastTarget: Target | undefined;
  keySource: KeySource = 'none';
  preferredIgnored: string | undefined;
  /** The budget reservation while the call runs (see budget.ts). */
  hold: BudgetHold | undefined;
  readonly deadline: number;

  constructor(
    readonly request: TaskRequest,
    readonly ctx: CallContext,
    readonly started: number,
    readonly timeouts: TimeoutSettings,
  ) {
    const own = started + timeouts.totalMs;
    this.deadline = request.deadline !== undefined && request.deadline < own ? request.deadline : own;
  }
}

export interface Won<T> {
  candidate: Candidate;
  value: T;
  signal: AttemptSignal;
  info: CallInfo | undefined;
  attemptStart: number;
  round: number;
  /** Ends the deployment's in-flight count; called when the answer (or stream) is finished. */
  release: () => void;
}

export interface OpenedStream {
  iterator: AsyncIterator<StreamEvent>;
  /** Text or finish: usage events are taken in along the way (Candidate.reported). */
  first: Exclude<StreamEvent, { type: 'usage' }>;
}

/** A metrics sample for one attempt, or for a call that reached no provider (target undefined). */
export function callSample(
  target: Target | undefined,
  call: CallState,
  outcome: UsageOutcome,
  latencyMs: number,
  input: number,
  output: number,
  cost: number,
): CallSample {
  return {
    provider: target?.provider ?? 'none',
    model: target?.model ?? 'none',
    task: call.ctx.task,
    outcome,
    durationSeconds: latencyMs / 1000,
    inputTokens: input,
    outputTokens: output,
    costUsd: cost,
};
}

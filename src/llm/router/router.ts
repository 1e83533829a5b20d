/**
 * The provider router: every language-model call goes through here.
 * This module is the entry points and the accounting around them: validation,
 * admission (rates, budget), the target plan, request processors, usage and
 * metrics. Choosing and calling targets (fallback, retries, breakers) is in
 * walk.ts; opening a stream up to its first token is in stream-attempt.ts.
 */
import type { CallContext, PluginLogger, RequestProcessor } from '../plugin-host/types.ts';
import {
  ProviderError,
  estimateTokens,
  type GenerateRequest,
  type GenerateResponse,
  type StreamEvent,
} from '../provider-spec/contract.ts';
import { sleep as realSleep } from '../../resilience/backoff.ts';
import type { Clock } from '../../resilience/clock.ts';
import { abortable } from './attempt-signal.ts';
import { BreakerBank, type CircuitSnapshot } from './breakers.ts';
import { CallState, callSample, type Candidate, type OpenedStream, type Won } from './call-state.ts';
import { RouterError, RouterRefusal } from './errors.ts';
import { createHookRunner } from './hooks.ts';
import type { HookMetrics } from '../../hooks/hook-metrics.ts';
import type { RouterMetrics } from './metrics.ts';
import { resolveOptions, type RouterOptions, type TimeoutSettings } from './options.ts';
import { outcomeOf, providerDetail } from './outcome.ts';
import { applyProcessors, type ProcessorEnabled } from './processors.ts';
import type { SpendGuard } from './spend-guard.ts';
import { createBudgetAdmission, type BudgetLedger } from './budget.ts';
import { orderTargets } from './targets.ts';
import type {
  KeyResolver,
  NamedHooks,
  ProviderRegistry,
  RouterResponse,
  RouterStreamEvent,
  TargetPlan,
  TaskRequest,
  UsageOutcome,
  UsageRecord,
  UsageSink,
  SharedLimits,
} from './types.ts';
import type { SharedTargets } from './shared-targets.ts';
import { cleanUsage, costOf, recordUsage, reportedCount } from './usage.ts';
import { closeStream, nextEvent, openStream } from './stream-attempt.ts';
import { createTargetWalker } from './walk.ts';
import { ModelAvailability } from './model-availability.ts';
import { DeploymentStats, arrangeDeployments } from './deployments.ts';

export interface RouterDeps {
  providers: ProviderRegistry;
  plan: TargetPlan;
  keys: KeyResolver;
  spendGuard: SpendGuard;
  /** Budgets reserved per call across processes; absent leaves cost unlimited (beyond the spend guard's own check). */
  budget?: BudgetLedger | undefined;
  usage: UsageSink;
  metrics?: RouterMetrics;
  /** Applied in this order to every request before it leaves. */
  processors?: readonly RequestProcessor[];
  /** Lets a guild switch a processor off; absent means every processor runs. */
  processorEnabled?: ProcessorEnabled;
  hooks?: readonly NamedHooks[];
  /** Runs, failures and time of `hooks`, per plugin. */
  hookMetrics?: HookMetrics;
  clock: Clock;
  random: () => number;
  logger: PluginLogger;
  /** Backoff waits; injected so tests can advance a manual clock instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Pass the previous router's bank on a reload to keep breaker state. */
  breakers?: BreakerBank;
  /** Cooldowns and circuit transitions shared with other processes; used only when no bank is passed. */
  shared?: SharedTargets;
  /** Member and guild request rates across processes; checked before the spend guard. */
  limits?: SharedLimits;
  /** Pass the previous router's record of models reported gone on a reload. */
  availability?: ModelAvailability;
  /** Pass the previous router's deployment stats (in-flight counts, latency) on a reload. */
  deployments?: DeploymentStats;
  options?: RouterOptions | undefined;
}

export interface Router {
  generate(request: TaskRequest, ctx: CallContext): Promise<RouterResponse>;
  /**
   * Text deltas, then one `finish` event carrying the full response. Falls
   * back to another target only until the first text reaches the caller;
   * after that a failure is thrown as a ProviderError.
   */
  stream(request: TaskRequest, ctx: CallContext): AsyncIterable<RouterStreamEvent>;
  /** Breaker states, for status commands and metrics. */
  circuits(): CircuitSnapshot[];
}

export function createRouter(deps: RouterDeps): Router {
  const { providers, clock, logger } = deps;
  const options = resolveOptions(deps.options);
  const bank = deps.breakers ?? new BreakerBank(options.breaker, clock, deps.shared);
  const availability = deps.availability ?? new ModelAvailability(clock);
  const hooks = createHookRunner(deps.hooks ?? [], options.hookTimeoutMs, logger, deps.hookMetrics);
  const processors = deps.processors ?? [];
  const deployments = deps.deployments ?? new DeploymentStats();
  const walker = createTargetWalker({
    providers,
    keys: deps.keys,
    breakers: bank,
    availability,
    hooks,
    metrics: deps.metrics,
    retry: options.retry,
    clock,
    random: deps.random,
    logger,
    pause: deps.sleep ?? realSleep,
    stats: deployments,
    fallbackOn: options.fallbackOn,
    billFailedAttempt,
  });
  deps.metrics?.watchCircuits(() => bank.snapshot());
  const budget = createBudgetAdmission({
    ledger: deps.budget,
    bounds: deps.options?.promptBounds,
    keys: deps.keys,
    providers,
    clock,
    logger,
  });

  function timeoutsFor(task: CallContext['task']): TimeoutSettings {
    const t = options.timeouts.get(task);
    if (t === undefined) throw new RouterError('invalid_request', `unknown task ${JSON.stringify(String(task)).slice(0, 60)}`);
    return t;
  }

  // ---- before any provider: validation, admission, plan, processors -------------------------

  async function prepare(call: CallState): Promise<void> {
    const { request, ctx } = call;
    validate(request);
    if (request.signal?.aborted) throw new RouterError('aborted', 'the request was cancelled before it started');
    if (deps.limits !== undefined) await deps.limits.admit(ctx);
    await deps.spendGuard.admit(ctx);

    const plan = deps.plan(ctx.task, ctx.guildId);
    const ordered = await budget.boundPreference(call, plan, orderTargets(plan, request.preferred, providers));
    call.preferredIgnored = ordered.preferredIgnored;
    if (ordered.targets.length === 0) {
      throw new RouterError('no_targets', `no language-model targets are configured for the "${ctx.task}" task`);
    }
    const strategy = options.strategies.get(ctx.task) ?? 'ordered';
    const targets = arrangeDeployments(ordered.targets, strategy, deployments, deps.random);
    call.states = targets.map((target) => ({ target, retryable: false, readyAt: 0, key: undefined, breaker: undefined }));

    const base: GenerateRequest = {
      system: request.system,
      turns: request.turns,
      model: targets[0]?.model ?? '',
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      stop: request.stop,
      attachments: request.attachments,
    };
    // Processors see neither the key nor the signal: they rewrite content, nothing else.
    const processed = processors.length === 0 ? base : await applyProcessors(processors, deps.processorEnabled, base, ctx);
    call.processed = processed;
    let estimate = estimateTokens(processed.system);
    for (const turn of processed.turns) estimate += estimateTokens(turn.content);
    call.estimate = estimate;
    await budget.reserve(call);
  }

  function validate(r: TaskRequest): void {
    const problem =
      typeof r !== 'object' || r === null
        ? 'the request is not an object'
        : typeof r.system !== 'string'
          ? '"system" must be a string'
          : !Array.isArray(r.turns) || !r.turns.every(isTurn)
            ? '"turns" must be a list of {role: user|assistant, content: string}'
            : !(Number.isInteger(r.maxTokens) && r.maxTokens > 0)
              ? '"maxTokens" must be a positive whole number'
              : r.temperature !== undefined && !(Number.isFinite(r.temperature) && r.temperature >= 0)
                ? '"temperature" must be a non-negative number'
                : r.stop !== undefined && !(Array.isArray(r.stop) && r.stop.every((x) => typeof x === 'string'))
                  ? '"stop" must be a list of strings'
                  : undefined;
    if (problem !== undefined) throw new RouterError('invalid_request', `invalid language-model request: ${problem}`);
  }

  // ---- accounting ---------------------------------------------------------------------------

  function account(
    call: CallState,
    outcome: UsageOutcome,
    input: number,
    output: number,
    costUsd: number,
    extra: Pick<UsageRecord, 'cacheReadTokens' | 'cacheWriteTokens' | 'estimated'> = {},
  ): void {
    const target = call.lastTarget;
    const { ctx } = call;
    const now = clock.now();
    const entry = {
      guildId: ctx.guildId ?? null,
      userId: ctx.userId ?? null,
      task: ctx.task,
      provider: target?.provider ?? null,
      model: target?.model ?? null,
      inputTokens: input,
      outputTokens: output,
      costUsd,
      latencyMs: now - call.started,
      outcome,
      correlationId: ctx.correlationId,
      keySource: call.keySource,
      at: new Date(now),
      ...extra,
    };
    recordUsage(deps.usage, entry, logger);
    if (outcome.startsWith('attempt-failed:')) budget.charge(call, costUsd);
    else budget.settle(call, costUsd);
  }

  /** Records a call that produced no answer, and returns the error to throw. */
  function failed(call: CallState, err: unknown): unknown {
    const outcome = outcomeOf(err);
    // Attempts already counted themselves; a call that reached no provider is counted once here.
    if (!call.calledAny) deps.metrics?.recordCall(callSample(undefined, call, outcome, 0, 0, 0, 0));
    account(call, outcome, 0, 0, 0);
    const correlationId = call.ctx.correlationId;
    if (err instanceof RouterRefusal) {
      logger.debug({ correlationId, refused: err.kind, scope: err.scope }, 'call refused');
    } else if (!(err instanceof RouterError)) {
      // A bug, not a provider failure: the whole Error, so the log keeps its stack.
      logger.error({ correlationId, err }, 'router failed unexpectedly');
    }
    return err;
  }

  type Finish = Pick<GenerateResponse, 'finishReason' | 'usage' | 'model'>;

  function succeeded(call: CallState, won: Won<unknown>, text: string, finish: Finish): RouterResponse {
    const c = won.candidate;
    const latencyMs = clock.now() - won.attemptStart;
    const usage = cleanUsage(finish.usage, { inputTokens: call.estimate, outputTokens: estimateTokens(text) });
    const estimated =
      finish.usage?.estimated === true || !reportedCount(finish.usage?.inputTokens) || !reportedCount(finish.usage?.outputTokens);
    const costUsd = costOf(c.model, usage);
    call.attempts.push({ provider: c.target.provider, model: c.target.model, round: won.round, status: 'ok', latencyMs });
    deps.metrics?.recordCall(callSample(c.target, call, 'ok', latencyMs, usage.inputTokens, usage.outputTokens, costUsd));
    account(call, 'ok', usage.inputTokens, usage.outputTokens, costUsd, {
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      estimated,
    });
    // The backend's own name for the model (e.g. a dated snapshot) when it gives a sane one.
    const reported = typeof finish.model === 'string' && finish.model.length > 0 && finish.model.length <= 200;
    const response: RouterResponse = {
      text,
      finishReason: finish.finishReason,
      usage,
      provider: c.target.provider,
      model: reported ? finish.model : c.target.model,
      attempts: call.attempts,
      costUsd,
      latencyMs: clock.now() - call.started,
      keySource: c.key.source,
    };
    if (call.preferredIgnored !== undefined) response.preferredIgnored = call.preferredIgnored;
    return response;
  }

  /**
   * An attempt that failed after the provider reported usage (a stream's
   * message_start, then a timeout or a cut): the provider bills it, so it is
   * recorded with its cost as `attempt-failed:<kind>`, apart from the call's own row.
   */
  function billFailedAttempt(call: CallState, c: Candidate, err: ProviderError, latencyMs: number) {
    const usage = cleanUsage(c.reported, { inputTokens: 0, outputTokens: 0 });
    const cost = costOf(c.model, usage);
    if (cost === 0 && usage.inputTokens === 0 && usage.outputTokens === 0) return undefined;
    const outcome: UsageOutcome = `attempt-failed:${err.kind}`;
    account(call, outcome, usage.inputTokens, usage.outputTokens, cost, {
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      // Output the provider had not counted yet is not billed by it either; input and cache counts are its own.
      estimated: false,
    });
    logger.debug({ correlationId: call.ctx.correlationId, latencyMs, costUsd: cost }, 'failed attempt billed from reported usage');
    return { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd: cost };
  }

  /** A stream that broke off after text reached the caller: what was produced was paid for. */
  function brokenOff(call: CallState, won: Won<OpenedStream>, text: string, err: ProviderError): void {
    const c = won.candidate;
    const latencyMs = clock.now() - won.attemptStart;
    // The provider's own input and cache counts when its stream gave them; the output it streamed, estimated.
    const reported = c.reported !== undefined ? cleanUsage(c.reported, { inputTokens: call.estimate, outputTokens: 0 }) : undefined;
    const input = reported?.inputTokens ?? call.estimate;
    const output = Math.max(estimateTokens(text), reported?.outputTokens ?? 0);
    const usage = { inputTokens: input, outputTokens: output, cacheReadTokens: reported?.cacheReadTokens, cacheWriteTokens: reported?.cacheWriteTokens };
    const cost = costOf(c.model, usage);
    const outcome: UsageOutcome = `error:${err.kind}`;
    const { provider, model } = c.target;
    const detail = providerDetail(err);
    call.attempts.push({ provider, model, round: won.round, status: 'failed', reason: err.kind, detail, latencyMs });
    deps.metrics?.recordCall(callSample(c.target, call, outcome, latencyMs, input, output, cost));
    account(call, outcome, input, output, cost, {
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      estimated: true,
    });
  }

  // ---- the two entry points -----------------------------------------------------------------

  async function generate(request: TaskRequest, ctx: CallContext): Promise<RouterResponse> {
    const call = new CallState(request, ctx, clock.now(), timeoutsFor(ctx.task));
    let won: Won<GenerateResponse>;
    try {
      await prepare(call);
      won = await walker.run(call, async (c, signal) => {
        const res = await abortable(c.provider.generate(c.request), signal.signal);
        if (res === null || typeof res !== 'object' || typeof res.text !== 'string') {
          const where = { provider: c.target.provider, model: c.target.model };
          throw new ProviderError('invalid_response', 'the provider returned no text', where);
        }
        return res;
      });
    } catch (err) {
      throw failed(call, err);
    }
    won.release();
    won.signal.dispose();
    won.candidate.breaker.recordSuccess();
    const res = won.value;
    const response = succeeded(call, won, res.text, res);
    if (won.info !== undefined) await hooks.after(won.info, { response, latencyMs: clock.now() - won.attemptStart });
    return response;
  }

  async function* stream(request: TaskRequest, ctx: CallContext): AsyncGenerator<RouterStreamEvent> {
    const call = new CallState(request, ctx, clock.now(), timeoutsFor(ctx.task));
    let won: Won<OpenedStream>;
    try {
      await prepare(call);
      won = await walker.run(call, (c, signal) => openStream(c, signal, call.timeouts));
    } catch (err) {
      throw failed(call, err);
    }
    // Committed: text is about to reach the caller, so there is no falling back from here on.
    const c = won.candidate;
    const signal = won.signal;
    c.breaker.recordSuccess();
    const chunks: string[] = [];
    let finish: Extract<StreamEvent, { type: 'finish' }> | undefined;
    let failure: ProviderError | undefined;
    let yielding = false;
    try {
      let event = won.value.first;
      while (event.type === 'text') {
        if (event.delta.length > 0) {
          chunks.push(event.delta);
          yielding = true;
          yield { type: 'text', delta: event.delta };
          yielding = false;
        }
        event = await nextEvent(won.value, signal, c);
      }
      finish = event;
    } catch (raw) {
      if (yielding) throw raw; // thrown in by the consumer: settled below as a departure
      failure = walker.classify(raw, signal, c);
    } finally {
      won.release();
      if (finish === undefined && failure === undefined) {
        // The consumer stopped reading: stop the provider too, and account for what it produced.
        signal.cancel();
        closeStream(won.value.iterator);
        const where = { provider: c.target.provider, model: c.target.model };
        const left = new ProviderError('aborted', 'the consumer stopped reading', where);
        brokenOff(call, won, chunks.join(''), left);
        signal.dispose();
        if (won.info !== undefined) await hooks.after(won.info, { error: left, latencyMs: clock.now() - won.attemptStart });
      } else {
        signal.dispose();
      }
    }
    if (failure !== undefined) {
      // A timeout of the whole call says nothing about the target; anything else retryable counts against it.
      if (failure.retryable && signal.firedBy !== 'deadline') c.breaker.recordFailure();
      brokenOff(call, won, chunks.join(''), failure);
      const target = `${c.target.provider}/${c.target.model}`;
      logger.warn({ target, kind: failure.kind, correlationId: ctx.correlationId }, 'stream failed after its first token');
      if (won.info !== undefined) await hooks.after(won.info, { error: failure, latencyMs: clock.now() - won.attemptStart });
      throw failure;
    }
    if (finish === undefined) return;
    const response = succeeded(call, won, chunks.join(''), finish);
    if (won.info !== undefined) await hooks.after(won.info, { response, latencyMs: clock.now() - won.attemptStart });
    yield { type: 'finish', response };
  }

  return {
    generate,
    stream,
    circuits: () => bank.snapshot(),
  };
}

function isTurn(t: unknown): boolean {
  if (t === null || typeof t !== 'object') return false;
  const { role, content } = t as { role?: unknown; content?: unknown };
  return typeof content === 'string' && (role === 'user' || role === 'assistant');
}

/**
 * Walking a call's targets: which ones may be called, calling them, and what
 * each failure means. The first pass goes through every target at once; only
 * when no untried target is left do retry rounds start, ready targets first,
 * each wait the larger of jittered backoff and retry-after and never past the
 * call's deadline.
 */
import type { CallInfo, PluginLogger } from '../plugin-host/types.ts';
import { ProviderError, type GenerateRequest } from '../provider-spec/contract.ts';
import { jitteredBackoff } from '../../resilience/backoff.ts';
import type { Clock } from '../../resilience/clock.ts';
import { AttemptSignal } from './attempt-signal.ts';
import type { BreakerBank } from './breakers.ts';
import type { SharedBreaker } from './shared-breaker.ts';
import { CallState, callSample, type Candidate, type TargetState, type Won } from './call-state.ts';
import { RouterError, describeWhen } from './errors.ts';
import type { HookRunner } from './hooks.ts';
import type { RouterMetrics } from './metrics.ts';
import type { RetrySettings } from './options.ts';
import { describeAttempts, providerDetail, retryHint } from './outcome.ts';
import type { ModelAvailability } from './model-availability.ts';
import { deploymentId, type DeploymentStats } from './deployments.ts';
import { fitTemperature } from './parameters.ts';
import { findModel } from './targets.ts';
import type { KeyResolver, ProviderRegistry, SkipReason } from './types.ts';
import { messageOf } from '../../log/error-message.ts';

interface WalkerDeps {
  providers: ProviderRegistry;
  keys: KeyResolver;
  breakers: BreakerBank;
  /** Models a provider said are gone, passed over for a while. */
  availability: ModelAvailability;
  hooks: HookRunner;
  metrics: RouterMetrics | undefined;
  retry: RetrySettings;
  clock: Clock;
  random: () => number;
  logger: PluginLogger;
  pause: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Calls in flight and latency per deployment, for the least-busy and latency strategies. */
  stats: DeploymentStats;
  /** Statuses that move a call on (router.fallback_on); undefined: the built-in classification. */
  fallbackOn: ReadonlySet<number> | undefined;
  /** Records a failed attempt the provider had already reported usage for (it is billed all the same). */
  billFailedAttempt: (
    call: CallState,
    c: Candidate,
    err: ProviderError,
    latencyMs: number,
  ) => { inputTokens: number; outputTokens: number; costUsd: number } | undefined;
}

/** One attempt at a candidate: resolves with what the entry point needs, throws what the provider threw. */
type Attempt<T> = (c: Candidate, signal: AttemptSignal) => Promise<T>;

interface TargetWalker {
  /** The first target that answers, or a RouterError explaining why none did. */
  run<T>(call: CallState, attempt: Attempt<T>): Promise<Won<T>>;
  /** Normalises whatever an attempt threw, using the attempt's own signal to tell timeouts from the caller leaving. */
  classify(raw: unknown, signal: AttemptSignal, c: Candidate): ProviderError;
}

/** The longest cooldown a provider's Retry-After may impose on every process. */
const MAX_COOLDOWN_MS = 15 * 60_000;

/** Failures that say nothing about a later try at the same target. */
const NOT_WORTH_RETRYING: ReadonlySet<string> = new Set(['bad_request', 'unsupported_parameter', 'model_unavailable', 'auth', 'context_length']);

/**
 * Failures `fallback_on` decides about, by their HTTP status. The rest always
 * move on: timeouts, cut connections and garbled answers carry no status, and a
 * prompt too long for one window is what larger windows further on are for.
 */
const STATUS_GOVERNED: ReadonlySet<string> = new Set([
  'rate_limited',
  'overloaded',
  'server',
  'auth',
  'bad_request',
  'unsupported_parameter',
  'model_unavailable',
]);

export function createTargetWalker(deps: WalkerDeps): TargetWalker {
  const { providers, clock, logger, hooks, retry, pause } = deps;
  const bank = deps.breakers;

  function skip(call: CallState, state: TargetState, round: number, reason: SkipReason, detail: string): undefined {
    const { provider, model } = state.target;
    call.attempts.push({ provider, model, round, status: 'skipped', reason, detail });
    return undefined;
  }

  /**
   * Every check that needs no network, then the key, then the breaker.
   * Undefined (with the reason recorded) when the target is passed over.
   */
  async function eligible(call: CallState, state: TargetState, round: number): Promise<Candidate | undefined> {
    const { target } = state;
    const provider = providers.getProvider(target.provider);
    if (provider === undefined) return skip(call, state, round, 'provider_missing', `provider "${target.provider}" is not loaded`);
    const model = findModel(provider.models, target.model);
    if (model === undefined) {
      return skip(call, state, round, 'model_unknown', `provider "${target.provider}" does not list model "${target.model}"`);
    }
    const goneUntil = deps.availability.unavailableUntil(target.provider, target.model);
    if (goneUntil !== undefined) {
      const until = new Date(goneUntil).toISOString();
      return skip(call, state, round, 'model_unavailable', `the provider reported this model unavailable; passed over until ${until}`);
    }
    if (providers.isHealthy?.(target.provider) === false) {
      return skip(call, state, round, 'provider_unhealthy', 'its last health check failed');
    }
    const maxTokens = Math.min(call.request.maxTokens, model.maxOutputTokens);
    if (model.contextWindow <= call.minWindow) {
      call.contextSkips++;
      const why = `its ${model.contextWindow}-token window is no larger than one that already refused the request`;
      return skip(call, state, round, 'context_window', why);
    }
    if (call.estimate + maxTokens > model.contextWindow) {
      call.contextSkips++;
      return skip(
        call,
        state,
        round,
        'context_window',
        `~${call.estimate} input tokens plus ${maxTokens} for the answer exceed its ${model.contextWindow}-token window`,
      );
    }
    let key = state.key;
    if (key === undefined) {
      try {
        key = state.key = await deps.keys(target.provider, call.ctx.guildId, target);
      } catch (err) {
        // Not cached, and the target stays in the retry rounds: a later round may find the key store back.
        const reason = messageOf(err);
        logger.warn({ provider: target.provider, correlationId: call.ctx.correlationId, err: reason }, 'key lookup failed');
        state.retryable = true;
        state.readyAt = 0;
        return skip(call, state, round, 'no_key', `the API key for "${target.provider}" could not be looked up`);
      }
    }
    if (provider.requiresKey && !key.apiKey) {
      return skip(
        call,
        state,
        round,
        'no_key',
        call.ctx.guildId === undefined
          ? `no API key is configured for "${target.provider}"`
          : `no API key for "${target.provider}": this server has none of its own and may not use the operator's`,
      );
    }
    // A guild's own key gets its own circuit and cooldown: its rate limits are not everyone's.
    const scope = key.source === 'guild' ? call.ctx.guildId : undefined;
    const coolUntil = bank.shared.cooldownUntil(deploymentId(target), scope);
    if (coolUntil !== undefined) {
      // Asked for by the provider (here or in another process): wait for it in a retry round if the deadline allows.
      state.retryable = true;
      state.readyAt = coolUntil;
      return skip(call, state, round, 'cooldown', `the provider asked for no calls until ${new Date(coolUntil).toISOString()}`);
    }
    const breaker = (state.breaker = bank.get(target, scope));
    if (!(await breaker.acquire())) return skipOpen(call, state, round, breaker);
    const processed = call.processed as GenerateRequest;
    const request: GenerateRequest = {
      ...processed,
      model: target.model,
      maxTokens,
      apiKey: key.apiKey,
      temperature: fitTemperature(processed.temperature, model),
    };
    return { target, provider, model, key, breaker, request };
  }

  function skipOpen(call: CallState, state: TargetState, round: number, breaker: SharedBreaker): undefined {
    const retryAt = breaker.retryAt;
    const now = clock.now();
    if (retryAt > now) {
      if (retryAt < call.earliestOpen) call.earliestOpen = retryAt;
      const until = new Date(retryAt).toISOString();
      return skip(call, state, round, 'circuit_open', `circuit open after repeated failures, until ${until}`);
    }
    if (now < call.earliestOpen) call.earliestOpen = now;
    return skip(call, state, round, 'circuit_open', 'circuit half-open; its single probe is already in flight');
  }

  function classify(raw: unknown, signal: AttemptSignal, c: Candidate): ProviderError {
    const where = { provider: c.target.provider, model: c.target.model, cause: raw };
    if (signal.signal.aborted) {
      if (signal.firedBy === 'caller') return new ProviderError('aborted', 'the request was cancelled', where);
      return new ProviderError('timeout', signal.describe(), where);
    }
    if (raw instanceof ProviderError) {
      // Nobody aborted this attempt, so a provider claiming "aborted" lost its connection.
      if (raw.kind === 'aborted') return new ProviderError('network', 'the connection was cut', { ...raw.details, cause: raw });
      return raw;
    }
    return new ProviderError('server', `provider "${c.target.provider}" failed unexpectedly`, where);
  }

  async function tryTarget<T>(
    call: CallState,
    state: TargetState,
    round: number,
    attempt: Attempt<T>,
  ): Promise<Won<T> | undefined> {
    if (call.request.signal?.aborted) throw new RouterError('aborted', 'the request was cancelled', { attempts: call.attempts });
    if (clock.now() >= call.deadline) throw outOfTime(call);
    const c = await eligible(call, state, round);
    if (c === undefined) return undefined;
    call.calledAny = true;
    call.lastTarget = c.target;
    call.keySource = c.key.source;

    const info: CallInfo | undefined = hooks.active
      ? { ctx: call.ctx, provider: c.target.provider, model: c.target.model, request: { ...c.request, apiKey: undefined } }
      : undefined;
    if (info !== undefined) await hooks.before(info);

    const attemptStart = clock.now();
    const remaining = call.deadline - attemptStart;
    const signal = new AttemptSignal(call.request.signal);
    if (call.timeouts.attemptMs < remaining) signal.arm('attempt', call.timeouts.attemptMs);
    else signal.arm('deadline', remaining);
    c.request.signal = signal.signal;
    const release = deps.stats.begin(c.target);
    try {
      const value = await attempt(c, signal);
      deps.stats.observe(c.target, clock.now() - attemptStart);
      return { candidate: c, value, signal, info, attemptStart, round, release };
    } catch (raw) {
      release();
      signal.dispose();
      const err = classify(raw, signal, c);
      const latencyMs = clock.now() - attemptStart;
      // A deployment that timed out was at least that slow.
      if (err.kind === 'timeout') deps.stats.observe(c.target, latencyMs);
      call.lastError = err;
      call.attempts.push({
        provider: c.target.provider,
        model: c.target.model,
        round,
        status: 'failed',
        reason: err.kind,
        detail: err.kind === 'timeout' ? err.message : providerDetail(err),
        latencyMs,
      });
      const billed = c.reported !== undefined ? deps.billFailedAttempt(call, c, err, latencyMs) : undefined;
      deps.metrics?.recordCall(
        callSample(c.target, call, `error:${err.kind}`, latencyMs, billed?.inputTokens ?? 0, billed?.outputTokens ?? 0, billed?.costUsd ?? 0),
      );
      if (info !== undefined) await hooks.after(info, { error: err, latencyMs });
      settleFailure(call, state, c, err, signal);
      return undefined;
    }
  }

  /** Decides what a failed attempt means for the target, its breaker and the call. */
  function settleFailure(call: CallState, state: TargetState, c: Candidate, err: ProviderError, signal: AttemptSignal): void {
    const name = `${c.target.provider}/${c.target.model}`;
    const status = err.details.status;
    if (deps.fallbackOn !== undefined && status !== undefined && STATUS_GOVERNED.has(err.kind) && !deps.fallbackOn.has(status)) {
      throw notAFallback(call, c, err, status);
    }
    switch (err.kind) {
      case 'aborted':
        c.breaker.releaseProbe();
        throw new RouterError('aborted', 'the request was cancelled', { attempts: call.attempts, lastError: err });
      case 'context_length':
        c.breaker.releaseProbe();
        call.contextSkips++;
        if (c.model.contextWindow > call.minWindow) call.minWindow = c.model.contextWindow;
        return;
      case 'auth':
        // The key was rejected: nothing wrong with the target for anyone else, and no point asking it again.
        c.breaker.releaseProbe();
        logger.warn({ target: name, keySource: c.key.source, correlationId: call.ctx.correlationId }, 'provider rejected the API key');
        return;
      case 'model_unavailable': {
        // The model is gone from this provider for every call, not just this one; the provider itself is fine.
        c.breaker.releaseProbe();
        const until = deps.availability.markUnavailable(c.target.provider, c.target.model);
        logger.warn(
          { target: name, status: err.details.status, until: new Date(until).toISOString(), correlationId: call.ctx.correlationId },
          'provider reports the model unavailable; passing it over',
        );
        return;
      }
      case 'unsupported_parameter':
      case 'bad_request':
        // This target refused this request: asking it again cannot help, another provider may accept it.
        c.breaker.releaseProbe();
        call.refusals++;
        logger.warn(
          { target: name, kind: err.kind, status: err.details.status, correlationId: call.ctx.correlationId },
          'provider refused the request; trying the next target',
        );
        return;
      default:
        if (err.kind === 'timeout' && signal.firedBy === 'deadline') {
          // The call's budget ran out, which says nothing about the target's health.
          c.breaker.releaseProbe();
          throw outOfTime(call);
        }
        c.breaker.recordFailure();
        state.retryable = true;
        state.readyAt = err.details.retryAfterMs !== undefined ? clock.now() + err.details.retryAfterMs : 0;
        if (err.details.retryAfterMs !== undefined && err.details.retryAfterMs > 0) {
          // Every other call, in every process, holds off this target too.
          const scope = c.key.source === 'guild' ? call.ctx.guildId : undefined;
          bank.shared.noteCooldown(deploymentId(c.target), scope, clock.now() + Math.min(err.details.retryAfterMs, MAX_COOLDOWN_MS));
        }
        logger.warn(
          { target: name, kind: err.kind, status: err.details.status, correlationId: call.ctx.correlationId },
          'provider attempt failed; moving on',
        );
    }
  }

  /**
   * First pass: every target in order, moving on at once. Then, only when no
   * untried target is left, rounds over the retryable ones: ready ones first,
   * each wait the larger of jittered backoff and retry-after, never past the deadline.
   */
  async function runTargets<T>(call: CallState, attempt: Attempt<T>): Promise<Won<T>> {
    for (let round = 0; round <= retry.rounds; round++) {
      let order = call.states;
      if (round > 0) {
        // A circuit this call has just opened is passed over now rather than after a pointless wait.
        for (const s of call.states) {
          if (s.retryable && s.breaker !== undefined && s.breaker.state === 'open') {
            s.retryable = false;
            skipOpen(call, s, round, s.breaker);
          }
        }
        order = call.states.filter((s) => s.retryable).sort((a, b) => a.readyAt - b.readyAt);
        const first = order[0];
        if (first === undefined) break;
        await waitForRound(call, round, first);
      }
      for (const state of order) {
        if (round > 0 && state.readyAt > clock.now()) {
          if (state.readyAt >= call.deadline) {
            const until = new Date(state.readyAt).toISOString();
            skip(call, state, round, 'retry_after_past_deadline', `it asked to wait until ${until}, past the time limit`);
            continue;
          }
          await wait(call, state.readyAt - clock.now());
        }
        state.retryable = false;
        const won = await tryTarget(call, state, round, attempt);
        if (won !== undefined) return won;
      }
    }
    throw finalError(call);
  }

  async function waitForRound(call: CallState, round: number, first: TargetState): Promise<void> {
    const now = clock.now();
    const remaining = call.deadline - now;
    const retryAfter = Math.max(0, first.readyAt - now);
    if (retryAfter >= remaining) {
      throw new RouterError(
        'exhausted',
        `every target failed and the earliest retry (${describeWhen(first.readyAt, now)}) is past this request's time limit: ` +
          describeAttempts(call.attempts),
        { attempts: call.attempts, lastError: call.lastError, retryAt: first.readyAt },
      );
    }
    const ms = Math.max(jitteredBackoff(round - 1, retry.baseMs, retry.maxMs, deps.random), retryAfter);
    if (ms >= remaining) {
      throw new RouterError('exhausted', `every target failed and no time is left to retry: ${describeAttempts(call.attempts)}`, {
        attempts: call.attempts,
        lastError: call.lastError,
        retryAt: now + ms,
      });
    }
    await wait(call, ms);
  }

  /** A failure whose status `fallback_on` leaves out: the call ends with it, as the operator asked. */
  function notAFallback(call: CallState, c: Candidate, err: ProviderError, status: number): RouterError {
    if (err.retryable) c.breaker.recordFailure();
    else c.breaker.releaseProbe();
    if (err.kind === 'model_unavailable') deps.availability.markUnavailable(c.target.provider, c.target.model);
    const name = `${c.target.provider}/${c.target.model}`;
    const retryAt = err.details.retryAfterMs !== undefined ? clock.now() + err.details.retryAfterMs : undefined;
    logger.warn(
      { target: name, kind: err.kind, status, correlationId: call.ctx.correlationId },
      'provider failure with a status router.fallback_on does not list; not falling back',
    );
    return new RouterError(
      err.retryable ? 'exhausted' : 'bad_request',
      `${name} answered ${status} (${err.kind}), a status router.fallback_on does not list, so no other target was tried: ` +
        describeAttempts(call.attempts),
      { attempts: call.attempts, lastError: err, retryAt },
    );
  }

  function outOfTime(call: CallState): RouterError {
    const limit = call.deadline - call.started;
    return new RouterError('timeout', `no answer within the request's time limit (${limit} ms): ${describeAttempts(call.attempts)}`, {
      attempts: call.attempts,
      lastError: call.lastError,
    });
  }

  async function wait(call: CallState, ms: number): Promise<void> {
    try {
      await pause(ms, call.request.signal);
    } catch (err) {
      throw new RouterError('aborted', 'the request was cancelled while waiting to retry', { attempts: call.attempts, cause: err });
    }
  }

  function finalError(call: CallState): RouterError {
    const now = clock.now();
    const summary = describeAttempts(call.attempts);
    const attempts = call.attempts;
    if (!call.calledAny && Number.isFinite(call.earliestOpen)) {
      const only = call.states.length === 1 ? call.states[0]?.target : undefined;
      const single = only !== undefined ? `${only.provider}/${only.model}` : 'every target';
      return new RouterError(
        'unavailable',
        `${single} is unavailable until ${describeWhen(call.earliestOpen, now)} after repeated failures: ${summary}`,
        { attempts, retryAt: call.earliestOpen },
      );
    }
    if (call.contextSkips > 0 && attempts.every((a) => a.reason === 'context_window' || a.reason === 'context_length')) {
      let largest = 0;
      for (const { target } of call.states) {
        const window = findModel(providers.getProvider(target.provider)?.models, target.model)?.contextWindow ?? 0;
        if (window > largest) largest = window;
      }
      return new RouterError(
        'context_too_large',
        `the request (~${call.estimate} tokens plus ${call.request.maxTokens} for the answer) does not fit any configured model; ` +
          `the largest window is ${largest} tokens. Summarize fewer messages or configure a model with a larger window.`,
        { attempts, lastError: call.lastError },
      );
    }
    const retryableFailure = attempts.some((a) => a.status === 'failed' && !NOT_WORTH_RETRYING.has(a.reason ?? ''));
    if (call.refusals > 0 && !retryableFailure && call.lastError !== undefined) {
      const refused = attempts.filter((a) => a.reason === 'bad_request' || a.reason === 'unsupported_parameter');
      const last = refused.at(-1);
      const name = last !== undefined ? `${last.provider}/${last.model}` : 'the provider';
      return new RouterError(
        'bad_request',
        `no provider accepted the request: ${name} rejected the request itself (${last?.detail ?? 'refused'}); ${summary}`,
        { attempts, lastError: call.lastError },
      );
    }
    if (!call.calledAny) {
      return new RouterError('no_targets', `no language-model target could be used: ${summary}`, { attempts });
    }
    let retryAt: number | undefined;
    for (const s of call.states) {
      if (s.retryable && s.readyAt > now && (retryAt === undefined || s.readyAt < retryAt)) retryAt = s.readyAt;
    }
    return new RouterError('exhausted', `every language-model target failed: ${summary}${retryHint(retryAt, now)}`, {
      attempts,
      lastError: call.lastError,
      retryAt,
    });
  }

  return { run: runTargets, classify };
}

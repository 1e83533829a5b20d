/**
 * Budgets that hold across processes. Before a call that may be paid with
 * the operator's key, the most it can cost (estimated input tokens and the
 * answer's token limit at the dearest such target's prices) is reserved in a
 * shared ledger; after it, the real cost replaces the reservation. A call is
 * admitted while settled spend plus live reservations is below the budget,
 * so concurrent calls overshoot by at most one call's maximum.
 *
 * Targets paid with the guild's own key are never held back by the budget,
 * and a prompt's choice of model is held to the operator's bounds only when
 * the operator's key would pay for it (prompt-bounds.ts).
 */
import type { PluginLogger } from '../plugin-host/types.ts';
import type { ModelInfo } from '../provider-spec/contract.ts';
import type { Clock } from '../../resilience/clock.ts';
import type { CallState, TargetState } from './call-state.ts';
import { RouterError, RouterRefusal, describeWhen } from './errors.ts';
import { outsideBounds, type PromptBounds } from './prompt-bounds.ts';
import { findModel } from './targets.ts';
import type { KeyResolution, KeyResolver, ProviderRegistry, Target } from './types.ts';
import { costOf } from './usage.ts';
import { messageOf } from '../../log/error-message.ts';

/** A call's reservation, as the ledger handed it out. */
export interface BudgetHold {
  readonly id: string;
  readonly guildId: string;
  /** The UTC day it counts against, 'YYYY-MM-DD'. */
  readonly day: string;
  readonly amountUsd: number;
  /** The budget it was admitted under (for the threshold notices). */
  readonly budgetUsd: number;
}

export type Reservation = { ok: true; hold: BudgetHold } | { ok: false; spentUsd: number; heldUsd: number };

/** Where budgets are kept: the database in the service (budget-ledger.ts), shared by every process. */
export interface BudgetLedger {
  /** The guild's daily budget in USD for calls paid with the operator's key; null means no limit. */
  budgetFor(guildId: string): number | null | Promise<number | null>;
  /** Atomically: admitted (and `amountUsd` held for `leaseMs`) only while spent + held < budget. */
  reserve(request: { guildId: string; budgetUsd: number; amountUsd: number; now: number; leaseMs: number }): Promise<Reservation>;
  /** Adds the real cost to the day and drops the hold. Never rejects. */
  settle(hold: BudgetHold, costUsd: number): Promise<void>;
}

/** A reservation outlives the call's deadline by this much before it stops counting. */
const LEASE_MARGIN_MS = 60_000;

export function nextUtcMidnight(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** Cents for ordinary amounts; small budgets (fractions of a cent) keep their significant digits. */
export const usd = (n: number): string => (n >= 1 || n === 0 ? `$${n.toFixed(2)}` : `$${Number(n.toPrecision(2))}`);

/**
 * The most a call can cost on `model`: every estimated input token at the
 * dearer of the input and cache-write prices, and the whole answer limit.
 */
export function maxCallCost(model: ModelInfo, inputTokens: number, maxOutputTokens: number): number {
  const outputTokens = Math.min(maxOutputTokens, model.maxOutputTokens);
  return Math.max(
    costOf(model, { inputTokens, outputTokens }),
    costOf(model, { inputTokens: 0, outputTokens, cacheWriteTokens: inputTokens }),
  );
}

interface BudgetAdmissionDeps {
  ledger: BudgetLedger | undefined;
  bounds: PromptBounds | undefined;
  keys: KeyResolver;
  providers: ProviderRegistry;
  clock: Clock;
  logger: PluginLogger;
}

interface OrderedTargets {
  targets: readonly Target[];
  preferredIgnored?: string;
}

export interface BudgetAdmission {
  /** The order to use: the prompt's preference, or the task's own when the preference is out of bounds on the operator's key. */
  boundPreference(call: CallState, plan: readonly Target[], ordered: OrderedTargets): Promise<OrderedTargets>;
  /** Reserves the call's maximum (after `call.states` and `call.estimate` are known); refuses, or drops operator-paid targets. */
  reserve(call: CallState): Promise<void>;
  /** A failed attempt the provider billed: its cost is added to what the call settles, and the reservation stays. */
  charge(call: CallState, costUsd: number): void;
  /** Replaces the call's reservation with what it cost (with any billed failed attempts); call once the call is over. */
  settle(call: CallState, costUsd: number): void;
}

export function createBudgetAdmission(deps: BudgetAdmissionDeps): BudgetAdmission {
  const { ledger, providers, clock, logger } = deps;
  /** Operator-paid cost of billed failed attempts, per call still running. */
  const charged = new WeakMap<CallState, number>();
  const operatorCost = (call: CallState, costUsd: number): number =>
    call.keySource === 'operator' && Number.isFinite(costUsd) && costUsd > 0 ? costUsd : 0;

  /** Cached on the target's state: the walk uses it instead of looking it up again. A failed lookup stays unknown. */
  async function keyOf(state: TargetState, guildId: string | undefined): Promise<KeyResolution | undefined> {
    if (state.key !== undefined) return state.key;
    try {
      return (state.key = await deps.keys(state.target.provider, guildId, state.target));
    } catch {
      // The walk looks it up again and reports it; until then it might be the operator's.
      return undefined;
    }
  }

  const modelOf = (target: Target): ModelInfo | undefined => findModel(providers.getProvider(target.provider)?.models, target.model);

  return {
    async boundPreference(call, plan, ordered) {
      const bounds = deps.bounds?.[call.ctx.task];
      const first = ordered.targets[0];
      const planFirst = plan[0];
      if (bounds === undefined || call.request.preferred === undefined || ordered.preferredIgnored !== undefined || first === undefined) {
        return ordered;
      }
      if (planFirst !== undefined && planFirst.provider === first.provider && planFirst.model === first.model) return ordered;
      const probe: TargetState = { target: first, retryable: false, readyAt: 0, key: undefined, breaker: undefined };
      const key = await keyOf(probe, call.ctx.guildId);
      if (key?.source === 'guild') return ordered;
      const why = outsideBounds(bounds, first, modelOf(first));
      if (why === undefined) return ordered;
      const note =
        `the prompt asks for ${first.provider}/${first.model}, outside the operator's bounds for the "${call.ctx.task}" task ` +
        `on the operator's key (${why}); the task's own targets answer instead`;
      logger.info({ correlationId: call.ctx.correlationId, task: call.ctx.task, target: `${first.provider}/${first.model}` }, note);
      return { targets: plan, preferredIgnored: note };
    },

    async reserve(call) {
      const guildId = call.ctx.guildId;
      if (ledger === undefined || guildId === undefined) return;
      const budget = await ledger.budgetFor(guildId);
      if (budget === null) return;

      let maxUsd = 0;
      let operatorPaid = 0;
      let ownKey = 0;
      for (const state of call.states) {
        const key = await keyOf(state, guildId);
        if (key?.source === 'guild') ownKey++;
        if (key !== undefined && key.source !== 'operator') continue;
        const model = modelOf(state.target);
        // A model the provider does not list is passed over by the walk.
        if (model === undefined) continue;
        operatorPaid++;
        maxUsd = Math.max(maxUsd, maxCallCost(model, call.estimate, call.request.maxTokens));
      }
      if (operatorPaid === 0) return;

      const now = clock.now();
      let refusal: RouterRefusal | RouterError;
      if (!(budget > 0)) {
        refusal = new RouterRefusal(
          'budget',
          'guild',
          null,
          'Language-model calls are switched off for this server: its daily budget is $0. An admin can raise the budget to turn them on.',
        );
      } else {
        let result: Reservation | undefined;
        let failure: unknown;
        try {
          result = await ledger.reserve({ guildId, budgetUsd: budget, amountUsd: maxUsd, now, leaseMs: call.deadline - now + LEASE_MARGIN_MS });
        } catch (err) {
          failure = err;
          logger.error({ correlationId: call.ctx.correlationId, err: messageOf(err) }, 'budget reservation failed');
        }
        if (result?.ok === true) {
          call.hold = result.hold;
          return;
        }
        const resetAt = nextUtcMidnight(now);
        refusal =
          result === undefined
            ? new RouterError(
                'unavailable',
                "today's spending for this server could not be read from the database, so no call paid with the operator's key is made until it can be",
                { cause: failure },
              )
            : new RouterRefusal(
                'budget',
                'guild',
                resetAt,
                `This server's daily budget of ${usd(budget)} is used up (${usd(result.spentUsd)} spent today` +
                  (result.heldUsd > 0 ? `, ${usd(result.heldUsd)} held by calls in progress` : '') +
                  `); it resets at ${describeWhen(resetAt, now)}.`,
              );
      }
      if (ownKey === 0) throw refusal;
      // The server's own keys still serve: only the targets the operator would pay for are passed over.
      const kept: TargetState[] = [];
      for (const state of call.states) {
        if (state.key !== undefined && state.key.source !== 'operator') {
          kept.push(state);
        } else {
          const { provider, model } = state.target;
          call.attempts.push({ provider, model, round: 0, status: 'skipped', reason: 'budget', detail: refusal.message });
        }
      }
      call.states = kept;
    },

    charge(call, costUsd) {
      if (call.hold === undefined) return;
      charged.set(call, (charged.get(call) ?? 0) + operatorCost(call, costUsd));
    },

    settle(call, costUsd) {
      const hold = call.hold;
      if (hold === undefined || ledger === undefined) return;
      call.hold = undefined;
      void ledger.settle(hold, (charged.get(call) ?? 0) + operatorCost(call, costUsd));
    },
  };
}

/**
 * Prometheus metrics for routed calls. Labels are drawn from bounded sets
 * (configured provider and model names, task, outcome kinds); anything that
 * does not look like such a name is reported as "other", so neither a secret
 * nor user text can ever become a label.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CircuitState } from '../../resilience/circuit-breaker.ts';
import type { CircuitSnapshot } from './breakers.ts';
import type { Task, UsageOutcome } from './types.ts';

export interface CallSample {
  /** 'none' when the call never reached a provider (refused, unavailable). */
  provider: string;
  model: string;
  task: Task;
  outcome: UsageOutcome;
  durationSeconds: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** What the router needs from metrics; nothing more. */
export interface RouterMetrics {
  /** One sample per provider attempt, plus one for a call that reached none. */
  recordCall(sample: CallSample): void;
  /**
   * Circuit states are read when Prometheus scrapes, so the gauge is exact
   * (an open circuit turns half-open by the clock, not by an event) and costs
   * the hot path nothing. The latest reader replaces any earlier one.
   */
  watchCircuits(read: () => Iterable<CircuitSnapshot>): void;
}

const CIRCUIT_LABEL: Record<CircuitState, string> = { closed: 'closed', 'half-open': 'half_open', open: 'open' };
const CIRCUIT_STATES = ['closed', 'half_open', 'open'] as const;
const LABEL_SAFE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$/;
const OUTCOME_SAFE = /^(ok|unavailable|refused:(budget|rate)|error:[a-z_]{1,40})$/;

const TASKS = new Set<string>(['summarize', 'summarize-map', 'chat']);

function safe(value: string): string {
  return LABEL_SAFE.test(value) ? value : 'other';
}

export function createRouterMetrics(registry: Registry): RouterMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'recap_llm_requests_total',
    help: 'Language-model requests by provider, model, task and outcome.',
    labelNames: ['provider', 'model', 'task', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'recap_llm_request_duration_seconds',
    help: 'Time from sending a language-model request to its last byte.',
    labelNames: ['provider', 'model', 'task'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
    registers,
  });
  const tokens = new Counter({
    name: 'recap_llm_tokens_total',
    help: 'Tokens sent to and received from language models.',
    labelNames: ['direction'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'recap_llm_cost_usd_total',
    help: 'Estimated language-model spend in USD, at configured list prices.',
    registers,
  });
  let readCircuits: (() => Iterable<CircuitSnapshot>) | undefined;
  new Gauge({
    name: 'recap_circuit_state',
    help: 'Circuit breaker state per target: 1 on the series of its current state (closed, half_open, open), 0 on the others. Shared-credential circuits only.',
    labelNames: ['target', 'state'] as const,
    registers,
    collect() {
      if (readCircuits === undefined) return;
      this.reset();
      for (const c of readCircuits()) {
        // Circuits for guilds' own keys stay out: one series per guild would be unbounded.
        if (c.scope !== 'operator') continue;
        const target = safe(c.target);
        const current = CIRCUIT_LABEL[c.state];
        for (const state of CIRCUIT_STATES) this.set({ target, state }, state === current ? 1 : 0);
      }
    },
  });
  const inputTokens = tokens.labels('input');
  const outputTokens = tokens.labels('output');

  return {
    recordCall(s) {
      const provider = safe(s.provider);
      const model = safe(s.model);
      const task = TASKS.has(s.task) ? s.task : 'other';
      requests.labels(provider, model, task, OUTCOME_SAFE.test(s.outcome) ? s.outcome : 'error:other').inc();
      if (s.provider !== 'none') duration.labels(provider, model, task).observe(s.durationSeconds);
      if (s.inputTokens > 0) inputTokens.inc(s.inputTokens);
      if (s.outputTokens > 0) outputTokens.inc(s.outputTokens);
      if (s.costUsd > 0) cost.inc(s.costUsd);
    },
    watchCircuits(read) {
      readCircuits = read;
    },
  };
}

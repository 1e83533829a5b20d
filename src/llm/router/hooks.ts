/**
 * Runs plugin hooks around each provider attempt: in priority order (lower
 * first, then registration order), each cut off after its own timeout, and
 * every failure contained and logged: a hook can observe a call, never break it.
 */
import type { CallInfo, PluginLogger } from '../plugin-host/types.ts';
import type { GenerateResponse } from '../provider-spec/contract.ts';
import { noHookMetrics, type HookMetrics } from '../../hooks/hook-metrics.ts';
import { runBounded } from '../../hooks/run-bounded.ts';
import type { NamedHooks } from './types.ts';

export interface AfterCallOutcome {
  response?: GenerateResponse;
  error?: unknown;
  latencyMs: number;
}

export interface HookRunner {
  readonly active: boolean;
  before(info: CallInfo): Promise<void>;
  after(info: CallInfo, outcome: AfterCallOutcome): Promise<void>;
}

export function createHookRunner(
  hooks: readonly NamedHooks[],
  defaultTimeoutMs: number,
  logger: PluginLogger,
  metrics: HookMetrics = noHookMetrics,
): HookRunner {
  const ordered = hooks
    .map((hook, index) => ({ hook, index }))
    .sort((a, b) => (a.hook.priority ?? 0) - (b.hook.priority ?? 0) || a.index - b.index)
    .map(({ hook, index }) => ({ hook, label: hook.name ?? `hooks#${index}` }));
  const before = ordered.filter((h) => h.hook.beforeCall !== undefined);
  const after = ordered.filter((h) => h.hook.afterCall !== undefined);

  async function bounded(label: string, phase: 'beforeCall' | 'afterCall', timeoutMs: number, run: () => void | Promise<void>): Promise<void> {
    const started = performance.now();
    const result = await runBounded(timeoutMs, run, (err) => logger.warn({ hook: label, phase, err }, 'hook failed after its timeout'));
    if (result.status === 'timeout') logger.warn({ hook: label, phase, timeoutMs }, 'hook timed out; the call went on without it');
    if (result.status === 'error') logger.warn({ hook: label, phase, err: result.error }, 'hook failed; the call went on without it');
    metrics.observe({ plugin: label, hook: phase, status: result.status, seconds: (performance.now() - started) / 1000 });
  }

  return {
    active: before.length > 0 || after.length > 0,
    async before(info) {
      for (const { hook, label } of before) {
        await bounded(label, 'beforeCall', hook.timeoutMs ?? defaultTimeoutMs, () => hook.beforeCall?.(info));
      }
    },
    async after(info, outcome) {
      for (const { hook, label } of after) {
        await bounded(label, 'afterCall', hook.timeoutMs ?? defaultTimeoutMs, () => hook.afterCall?.(info, outcome));
      }
    },
  };
}

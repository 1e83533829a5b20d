/**
 * Runs the plugins' hooks at the core's hook points (summary.before/after,
 * chat.before/after, prompt.resolved). The core calls `run` and knows no
 * plugin; this runs every plugin that has the hook, in priority order (lower
 * first, then load order), each cut off after its own timeout, each failure
 * contained, logged and counted. Each hook gets a frozen copy of the event,
 * and what a before-hook returns is checked against its bounds
 * (../llm/plugin-host/hook-points.ts) and refused whole when outside them.
 */
import { z } from 'zod';
import {
  AMENDMENT_SCHEMAS,
  MAX_APPEND_TOTAL_CHARS,
  type HookEvents,
  type HookPoint,
  type NotesAmendment,
  type PromptAmendment,
} from '../llm/plugin-host/hook-points.ts';
import type { HookEntry } from '../llm/plugin-host/plugin-set.ts';
import type { PluginLogger } from '../llm/plugin-host/types.ts';
import { noHookMetrics, type HookMetrics } from './hook-metrics.ts';
import { runBounded } from './run-bounded.ts';

/** For hooks that set no `timeoutMs` of their own. */
export const DEFAULT_HOOK_TIMEOUT_MS = 2_000;

/** What the hooks at one point added, in the order they ran. */
export interface HookOutcome {
  /** From summary.before and chat.before: shown with the answer. */
  notes: string[];
  /** From prompt.resolved: appended to the system prompt. */
  append: string[];
}

/** The seam the core's call sites take. */
export interface PluginHooks {
  run<P extends HookPoint>(point: P, event: HookEvents[P]): Promise<HookOutcome>;
}

export const NO_PLUGIN_HOOKS: PluginHooks = { run: async () => ({ notes: [], append: [] }) };

interface PluginHooksDeps {
  /** Read at every run, so a reload's new plugins take part at once. */
  entries: () => readonly HookEntry[];
  logger: PluginLogger;
  metrics?: HookMetrics;
  timeoutMs?: number;
  /** Seconds, for the duration histogram; default performance.now. */
  now?: () => number;
}

export function createPluginHooks(deps: PluginHooksDeps): PluginHooks {
  const { logger } = deps;
  const metrics = deps.metrics ?? noHookMetrics;
  const defaultTimeoutMs = deps.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const now = deps.now ?? (() => performance.now() / 1000);

  return {
    async run(point, event) {
      const outcome: HookOutcome = { notes: [], append: [] };
      const entries = deps.entries().filter((entry) => typeof entry.hooks[point] === 'function');
      if (entries.length === 0) return outcome;
      // Stable: equal priorities keep the order given (load order).
      entries.sort((a, b) => (a.hooks.priority ?? 0) - (b.hooks.priority ?? 0));
      const frozen = deepFreeze(structuredClone(event));
      const schema = AMENDMENT_SCHEMAS[point];
      let appended = 0;
      for (const { plugin, hooks } of entries) {
        const timeoutMs = hooks.timeoutMs ?? defaultTimeoutMs;
        const hook = hooks[point] as (event: unknown) => unknown;
        const started = now();
        const result = await runBounded(timeoutMs, () => hook.call(hooks, frozen), (err) =>
          logger.warn({ plugin, hook: point, err }, 'hook failed after its timeout'),
        );
        const seconds = now() - started;
        if (result.status === 'timeout') {
          logger.warn({ plugin, hook: point, timeoutMs }, 'hook timed out; the request went on without it');
          metrics.observe({ plugin, hook: point, status: 'timeout', seconds });
          continue;
        }
        if (result.status === 'error') {
          logger.warn({ plugin, hook: point, err: result.error }, 'hook failed; the request went on without it');
          metrics.observe({ plugin, hook: point, status: 'error', seconds });
          continue;
        }
        if (schema !== null && result.value !== undefined) {
          const parsed = schema.safeParse(result.value);
          if (!parsed.success) {
            logger.warn({ plugin, hook: point, problem: z.prettifyError(parsed.error) }, 'hook returned something outside its bounds; ignored');
            metrics.observe({ plugin, hook: point, status: 'invalid', seconds });
            continue;
          }
          const amendment = parsed.data as NotesAmendment & PromptAmendment;
          if (amendment.append !== undefined && amendment.append.trim() !== '') {
            if (appended + amendment.append.length > MAX_APPEND_TOTAL_CHARS) {
              logger.warn({ plugin, hook: point, limit: MAX_APPEND_TOTAL_CHARS }, 'hooks together appended more than the limit; this one is left out');
              metrics.observe({ plugin, hook: point, status: 'invalid', seconds });
              continue;
            }
            appended += amendment.append.length;
            outcome.append.push(amendment.append);
          }
          if (amendment.notes !== undefined) outcome.notes.push(...amendment.notes);
        }
        metrics.observe({ plugin, hook: point, status: 'ok', seconds });
      }
      return outcome;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

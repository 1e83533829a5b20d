/**
 * The router's target plan: the operator's targets per task from the plugins
 * config (read on every call, so a reload takes effect at once), narrowed and
 * reordered by a guild's `providerOrder`. A guild can only choose among what
 * the operator configured: naming a provider restricts the guild's requests
 * to the providers it names, which is also how a guild keeps its data on, say,
 * its own Ollama.
 */
import { isGroupName, parseTarget, type RoutedTask } from './plugin-host/config-file.ts';
import type { ResolvedRouterConfig } from './plugin-host/plan.ts';
import { findModel } from './router/targets.ts';
import type { ProviderRegistry, Target, TargetPlan, Task } from './router/types.ts';

interface PlanSources {
  /** The host's current router config. */
  routerConfig(): ResolvedRouterConfig;
  /** The guild's provider order, when it has one (synchronous: read from the settings cache). */
  providerOrder(guildId: string): readonly string[] | undefined;
  /** An order for requests without a guild (the command line's `--provider`). */
  defaultOrder?: readonly string[] | undefined;
}

interface GuildPlan {
  plan: TargetPlan;
  /** Provider names the operator's plan uses, over every task, in first-seen order. */
  plannedProviders(): string[];
}

export function createGuildPlan(sources: PlanSources): GuildPlan {
  // Parsed once per config generation: the config object is replaced, never mutated, on reload.
  let parsedFor: ResolvedRouterConfig | undefined;
  let parsed = new Map<RoutedTask, readonly Target[]>();

  function operatorPlan(task: Task): readonly Target[] {
    const config = sources.routerConfig();
    if (config !== parsedFor) {
      const b = config.breaker;
      const breaker = { failureThreshold: b.failure_threshold, failureWindowMs: b.failure_window_ms, coolDownMs: b.cool_down_ms };
      parsed = new Map();
      for (const [name, entries] of Object.entries(config.tasks) as Array<[RoutedTask, string[]]>) {
        const targets: Target[] = [];
        for (const entry of entries) {
          if (!isGroupName(entry)) {
            targets.push(Object.freeze({ ...parseTarget(entry), breaker }));
            continue;
          }
          // A group's deployments stand next to each other; the router orders them per call.
          for (const d of config.groups[entry] ?? []) {
            targets.push(
              Object.freeze({
                ...parseTarget(d.target),
                breaker,
                group: entry,
                weight: d.weight,
                ...(d.api_key_env !== undefined ? { keyEnv: d.api_key_env } : {}),
              }),
            );
          }
        }
        parsed.set(name, Object.freeze(targets));
      }
      parsedFor = config;
    }
    return parsed.get(task) ?? [];
  }

  return {
    plan(task, guildId) {
      const targets = operatorPlan(task);
      const order = guildId === undefined ? sources.defaultOrder : sources.providerOrder(guildId);
      return order === undefined ? targets : reorder(targets, order);
    },
    plannedProviders() {
      const names = new Set<string>();
      for (const task of ['summarize', 'summarize-map', 'chat'] as const) {
        for (const t of operatorPlan(task)) names.add(t.provider);
      }
      return [...names];
    },
  };
}

/** Targets of the named providers only, in the guild's order; within a provider, the operator's order. */
function reorder(targets: readonly Target[], order: readonly string[]): Target[] {
  const out: Target[] = [];
  for (const provider of order) for (const t of targets) if (t.provider === provider) out.push(t);
  return out;
}

/**
 * The largest context window among a plan's targets that could be called
 * now: provider loaded, model listed, not failing its health check. 0 when
 * none could.
 */
export function largestWindow(targets: readonly Target[], registry: ProviderRegistry): number {
  const windows = callableWindows(targets, registry);
  return windows.length === 0 ? 0 : Math.max(...windows);
}

/** The smallest such window: a size that fits whichever of the targets ends up answering. */
export function smallestWindow(targets: readonly Target[], registry: ProviderRegistry): number {
  const windows = callableWindows(targets, registry);
  return windows.length === 0 ? 0 : Math.min(...windows);
}

function callableWindows(targets: readonly Target[], registry: ProviderRegistry): number[] {
  const windows: number[] = [];
  for (const t of targets) {
    const provider = registry.getProvider(t.provider);
    if (provider === undefined || registry.isHealthy?.(t.provider) === false) continue;
    const window = findModel(provider.models, t.model)?.contextWindow;
    if (window !== undefined) windows.push(window);
  }
  return windows;
}

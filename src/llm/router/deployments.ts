/**
 * Model groups: several deployments (keys, providers) serving one model, as
 * LiteLLM's `model_list` entries sharing a `model_name` and Portkey's
 * `loadbalance` targets. A plan lists a group's deployments next to each
 * other; per call they are put in the order the task's strategy chooses, so
 * the walk tries the chosen one first and, when it fails or is skipped, the
 * group's next before the plan's next entry.
 */
import type { RoutingStrategy, Target } from './types.ts';

/** Weight of the newest latency sample in the moving average. */
const LATENCY_EWMA_ALPHA = 0.3;

interface Standing {
  inFlight: number;
  /** Moving average of attempt latency; undefined until one attempt finished. */
  latencyMs: number | undefined;
}

/** What deployments are doing in this process: calls in flight and recent latency. */
export class DeploymentStats {
  readonly #byId = new Map<string, Standing>();

  /** Counts a call in flight until the returned function is called (calling it twice is harmless). */
  begin(target: Target): () => void {
    const s = this.#standing(target);
    s.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      s.inFlight--;
    };
  }

  /** An attempt's latency: to the whole answer for `generate`, to the first text for a stream. */
  observe(target: Target, latencyMs: number): void {
    if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) return;
    const s = this.#standing(target);
    s.latencyMs = s.latencyMs === undefined ? latencyMs : s.latencyMs + LATENCY_EWMA_ALPHA * (latencyMs - s.latencyMs);
  }

  inFlight(target: Target): number {
    return this.#byId.get(deploymentId(target))?.inFlight ?? 0;
  }

  latencyMs(target: Target): number | undefined {
    return this.#byId.get(deploymentId(target))?.latencyMs;
  }

  #standing(target: Target): Standing {
    const id = deploymentId(target);
    let s = this.#byId.get(id);
    if (s === undefined) {
      s = { inFlight: 0, latencyMs: undefined };
      this.#byId.set(id, s);
    }
    return s;
  }
}

/** One deployment: its target plus, when it has one, its own key's variable name (two keys for one model are two deployments). */
export function deploymentId(target: Target): string {
  const base = `${target.provider}/${target.model}`;
  return target.keyEnv === undefined ? base : `${base}#${target.keyEnv}`;
}

/**
 * The plan with each run of consecutive members of one group put in the
 * strategy's order; everything else stays where it is. Returns the input
 * itself when the plan has no group, so the common case allocates nothing.
 */
export function arrangeDeployments(
  targets: readonly Target[],
  strategy: RoutingStrategy,
  stats: DeploymentStats,
  random: () => number,
): readonly Target[] {
  if (!targets.some((t) => t.group !== undefined)) return targets;
  const out: Target[] = [];
  let i = 0;
  while (i < targets.length) {
    const group = targets[i]!.group;
    let end = i + 1;
    if (group !== undefined) while (end < targets.length && targets[end]!.group === group) end++;
    const run = targets.slice(i, end);
    out.push(...(run.length > 1 ? arrangeGroup(run, strategy, stats, random) : run));
    i = end;
  }
  return out;
}

function arrangeGroup(run: Target[], strategy: RoutingStrategy, stats: DeploymentStats, random: () => number): Target[] {
  // Efraimidis–Spirakis keys: sorting by u^(1/w) is a weighted draw without replacement, so the
  // first deployment the walk can actually use is a weighted pick among the usable ones.
  const keyed = run.map((target) => ({ target, draw: weightedKey(target.weight ?? 1, random()) }));
  const byDraw = (a: { draw: number }, b: { draw: number }) => b.draw - a.draw;
  switch (strategy) {
    case 'ordered':
      keyed.sort(byDraw);
      break;
    case 'least-busy':
      keyed.sort((a, b) => stats.inFlight(a.target) - stats.inFlight(b.target) || byDraw(a, b));
      break;
    case 'latency':
      keyed.sort((a, b) => {
        const la = stats.latencyMs(a.target);
        const lb = stats.latencyMs(b.target);
        // Untried first: a deployment never measured might be the fastest.
        if (la === undefined || lb === undefined) return (la === undefined ? 0 : 1) - (lb === undefined ? 0 : 1) || byDraw(a, b);
        return la - lb || byDraw(a, b);
      });
      break;
  }
  return keyed.map((k) => k.target);
}

function weightedKey(weight: number, u: number): number {
  // u in [0, 1): 0 would make every key 0; nudge it into (0, 1).
  const v = Math.min(Math.max(u, Number.EPSILON), 1 - Number.EPSILON);
  return Math.log(v) / weight;
}

import type { ModelInfo } from '../provider-spec/contract.ts';
import type { ProviderRegistry, Target, TaskRequest } from './types.ts';

interface OrderedTargets {
  targets: readonly Target[];
  /** Why a prompt's preference was not followed, when it was not. */
  preferredIgnored?: string;
}

/**
 * Puts a prompt's preferred provider/model first. Only the plan's providers
 * and the models they list are eligible: front matter comes from a guild's
 * repository and must not reach providers or models the operator did not
 * configure (nor mint unbounded metric labels).
 */
export function orderTargets(
  plan: readonly Target[],
  preferred: TaskRequest['preferred'],
  registry: ProviderRegistry,
): OrderedTargets {
  const wantProvider = preferred?.provider;
  const wantModel = preferred?.model;
  if (wantProvider === undefined && wantModel === undefined) return { targets: plan };

  const matches = (t: Target): boolean =>
    (wantProvider === undefined || t.provider === wantProvider) && (wantModel === undefined || t.model === wantModel);
  const first = plan.filter(matches);
  if (first.length > 0) return { targets: [...first, ...plan.filter((t) => !matches(t))] };

  // Not in the plan as such: a model the plan's provider offers is still acceptable.
  if (wantModel !== undefined) {
    const host = plan.find(
      (t) => (wantProvider === undefined || t.provider === wantProvider) && offers(registry, t.provider, wantModel),
    );
    if (host !== undefined) return { targets: [{ provider: host.provider, model: wantModel, breaker: host.breaker }, ...plan] };
  }
  const asked = [wantProvider, wantModel].filter((x) => x !== undefined).join('/');
  return {
    targets: plan,
    preferredIgnored: `the prompt asks for ${JSON.stringify(asked.slice(0, 100))}, which this task's configured targets do not offer`,
  };
}

function offers(registry: ProviderRegistry, provider: string, model: string): boolean {
  return findModel(registry.getProvider(provider)?.models, model) !== undefined;
}

export function findModel(models: readonly ModelInfo[] | undefined, id: string): ModelInfo | undefined {
  if (models === undefined) return undefined;
  for (const m of models) if (m.id === id) return m;
  return undefined;
}

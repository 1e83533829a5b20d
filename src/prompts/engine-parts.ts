import type { InvalidationEvent } from '../invalidation/events.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { PromptConfig, PromptConfigStore } from './prompt-config-store.ts';
import type { CacheTarget, SnapshotCache } from './snapshot-cache.ts';
import type { WebhookTrust } from './webhook-trust.ts';

/** What the engine's own modules share; nothing outside src/prompts sees these parts. */
export interface EngineParts {
  configs: PromptConfigStore;
  cache: SnapshotCache;
  targetFor(config: PromptConfig): CacheTarget;
  trust: WebhookTrust;
  /** Tells the other processes of the deployment; rejects when the bus could not. */
  publish(event: InvalidationEvent): Promise<void>;
  clock: Clock;
  logger: Logger;
}

/** Ends freshness of every snapshot of a repository (a push, a rename) and trusts its webhooks; returns how many were held. */
export function expireRepository(parts: Pick<EngineParts, 'cache' | 'trust' | 'clock'>, owner: string, repo: string, ref?: string): number {
  parts.trust.mark(owner, repo, parts.clock.now());
  const o = owner.toLowerCase();
  const r = repo.toLowerCase();
  return parts.cache.expire((id) => id.owner.toLowerCase() === o && id.repo.toLowerCase() === r && (ref === undefined || id.ref === ref));
}

/** Ends freshness of the snapshots these configs read, and of no other. */
export function expireConfigs(parts: Pick<EngineParts, 'cache' | 'targetFor'>, configs: readonly PromptConfig[]): void {
  const keys = new Set(configs.map((c) => parts.targetFor(c).cacheKey));
  parts.cache.expire((id) => keys.has(id.cacheKey));
}

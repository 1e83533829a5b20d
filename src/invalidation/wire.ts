import type { PromptEngine } from '../prompts/engine.ts';
import type { InvalidationBus } from './bus.ts';

/**
 * Applies other processes' invalidations to this process's prompt engine.
 * Returns the unsubscribe function.
 */
export function wireInvalidation(bus: Pick<InvalidationBus, 'subscribe'>, engine: Pick<PromptEngine, 'applyRemote'>): () => void {
  return bus.subscribe((event) => engine.applyRemote(event));
}

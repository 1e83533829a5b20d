import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the work running now (an interaction, a webhook
 * delivery), for errors that surface far from it: a process-level handler
 * logs it so the failure can be found next to the work that caused it.
 */
export interface CorrelationScope {
  run<T>(id: string, fn: () => T): T;
  current(): string | undefined;
}

export function createCorrelationScope(): CorrelationScope {
  const storage = new AsyncLocalStorage<string>();
  return {
    run: (id, fn) => storage.run(id, fn),
    current: () => storage.getStore(),
  };
}

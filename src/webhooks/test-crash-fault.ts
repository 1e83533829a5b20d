import type { DeliveryProcessor } from './processor.ts';

/**
 * Test-only fault (RECAP_TEST_CRASH_ON_DELIVERY_REPO): processing a delivery
 * for `repo` throws outside any promise chain, as a bug in a callback would,
 * and never finishes. Fault tests use it to check that such a poison
 * delivery is given up after its attempts instead of crashing every restart.
 */
export function crashOnDeliveryFor(repo: string | undefined): ((processor: DeliveryProcessor) => DeliveryProcessor) | undefined {
  const target = repo?.trim().toLowerCase();
  if (target === undefined || target === '') return undefined;
  return (inner) => (payload) => {
    if (`${payload.owner}/${payload.repo}`.toLowerCase() !== target) return inner(payload);
    setImmediate(() => {
      throw new Error(`test fault (RECAP_TEST_CRASH_ON_DELIVERY_REPO): processing a delivery for ${target} crashed the process`);
    });
    return new Promise<string>(() => undefined);
  };
}

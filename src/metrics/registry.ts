import { Registry, collectDefaultMetrics } from 'prom-client';

const METRIC_PREFIX = 'recap_';

/**
 * One registry per application instance (never prom-client's global), so
 * tests and several apps in one process do not share counters.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

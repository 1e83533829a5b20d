import { Registry, collectDefaultMetrics } from 'prom-client';

/** The bot's own metrics start with this; process and Node metrics keep their standard names (`process_*`, `nodejs_*`). */
const METRIC_PREFIX = 'recap_';

/**
 * One registry per application instance (never prom-client's global), so
 * tests and several apps in one process do not share counters. The default
 * metrics carry no prefix: stock Node.js dashboards and alerts query them by
 * their standard names.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsJson } from './shard-metrics.ts';

/** The label that names the process a per-process series comes from: a shard id, or `manager`. */
export const SHARD_LABEL = 'shard';

export interface ProcessMetrics {
  /** `manager`, or the shard id. */
  process: string;
  /** `undefined` when the process did not answer: only `recap_shard_up` shows it. */
  metrics: MetricsJson | undefined;
}

type Metric = MetricsJson[number];

/**
 * One registry with the metrics of every process of a sharded deployment.
 *
 * Counters and histograms are sums of events, so the deployment's figure is
 * the sum over its processes (commands answered, webhooks received, request
 * durations), as prom-client's cluster aggregation does. A gauge or a
 * summary is a reading of one process (its memory, its event-loop lag, its
 * quantiles): summed or averaged it would mean nothing, so each process's
 * series keeps its own `shard` label. `recap_shard_up` says which shards
 * answered; a sum that lacks one reads as a counter reset to Prometheus,
 * which `rate()` handles.
 */
export function mergeProcessMetrics(sources: readonly ProcessMetrics[]): Registry {
  const prepared: Metric[][] = sources.map(({ process, metrics }) => (metrics ?? []).map((metric) => perProcessOrSummed(metric, process)));
  prepared.push([shardUp(sources.filter((s) => s.process !== 'manager'))]);
  return AggregatorRegistry.aggregate(prepared);
}

function perProcessOrSummed(metric: Metric, process: string): Metric {
  const type = String(metric.type);
  if (type === 'counter' || type === 'histogram') return { ...metric, aggregator: 'sum' };
  // Every series is unique to its process now: any aggregator keeps it as is ('omit', the
  // default of process_start_time_seconds, would drop it).
  return {
    ...metric,
    aggregator: 'first',
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, [SHARD_LABEL]: process } })),
  };
}

function shardUp(shards: readonly ProcessMetrics[]): Metric {
  return {
    name: 'recap_shard_up',
    help: 'Whether a shard process answered the last metrics collection (1) or not (0)',
    // prom-client types `type` as a numeric enum it does not export, but its JSON (which `aggregate` reads) carries the name.
    type: 'gauge' as unknown as Metric['type'],
    aggregator: 'first',
    collect: () => undefined,
    values: shards.map((s) => ({ value: s.metrics === undefined ? 0 : 1, labels: { [SHARD_LABEL]: s.process } })),
  };
}

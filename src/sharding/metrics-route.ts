import type { Registry } from 'prom-client';
import type { HttpServer } from '../http/server.ts';
import { mergeProcessMetrics } from './merge-metrics.ts';
import type { ShardManager } from './manager.ts';

/** A scrape waits this long for the shards; a slow shard shows as `recap_shard_up 0`, not as a failed scrape. */
export const SHARD_METRICS_TIMEOUT_MS = 2_000;

/**
 * GET /metrics on the manager: its own registry merged with every shard's.
 * Mounted after the app's health routes, it takes over their /metrics (the
 * server keeps the last handler mounted for a path).
 */
export function mountShardedMetrics(http: HttpServer, own: Registry, shards: Pick<ShardManager, 'collectMetrics'>, timeoutMs = SHARD_METRICS_TIMEOUT_MS): void {
  http.route('GET', '/metrics', async (_req, res) => {
    const [manager, fromShards] = await Promise.all([own.getMetricsAsJSON(), shards.collectMetrics(timeoutMs)]);
    const merged = mergeProcessMetrics([{ process: 'manager', metrics: manager }, ...fromShards]);
    const body = await merged.metrics();
    res.writeHead(200, { 'content-type': merged.contentType });
    res.end(body);
  });
}

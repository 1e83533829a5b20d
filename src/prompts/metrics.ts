import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ResolutionLevel } from './types.ts';

export interface PromptMetrics {
  resolved(level: ResolutionLevel, seconds: number): void;
  githubRequest(status: number | 'network' | 'timeout'): void;
  setSnapshotBytes(bytes: number): void;
}

/** Prompt engine metrics on the app's registry; children are made once so the hot path only increments. */
export function createPromptMetrics(registry: Registry): PromptMetrics {
  const resolutions = new Counter({
    name: 'recap_prompt_resolutions_total',
    help: 'Prompt resolutions by the fallback level that served them.',
    labelNames: ['level'],
    registers: [registry],
  });
  const github = new Counter({
    name: 'recap_github_requests_total',
    help: 'Requests to the GitHub API by HTTP status (or network/timeout).',
    labelNames: ['status'],
    registers: [registry],
  });
  const bytes = new Gauge({
    name: 'recap_prompt_snapshot_bytes',
    help: 'Bytes of prompt repository snapshots held in memory.',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'recap_prompt_resolution_seconds',
    help: 'Time to resolve a prompt, including any wait for GitHub.',
    buckets: [0.00001, 0.0001, 0.001, 0.01, 0.1, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const byLevel = {
    custom: resolutions.labels('custom'),
    cached: resolutions.labels('cached'),
    default: resolutions.labels('default'),
    fallback: resolutions.labels('fallback'),
  };
  return {
    resolved(level, seconds) {
      byLevel[level].inc();
      latency.observe(seconds);
    },
    githubRequest(status) {
      github.labels(String(status)).inc();
    },
    setSnapshotBytes(value) {
      bytes.set(value);
    },
  };
}

/** For tools and benchmarks that need no metrics. */
export const noPromptMetrics: PromptMetrics = {
  resolved: () => undefined,
  githubRequest: () => undefined,
  setSnapshotBytes: () => undefined,
};

/**
 * Prometheus metrics per plugin and per hook: runs, failures by reason, and
 * time spent. Labels come from bounded sets: plugin names are manifest names
 * (anything else is reported as "other") and hooks are the host's hook names.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { HOOK_POINTS } from '../llm/plugin-host/hook-points.ts';

export type HookRunStatus = 'ok' | 'error' | 'timeout' | 'invalid';

export interface HookSample {
  plugin: string;
  /** A hook point (`summary.after`) or a provider-call hook (`beforeCall`, `afterCall`). */
  hook: string;
  status: HookRunStatus;
  seconds: number;
}

export interface HookMetrics {
  observe(sample: HookSample): void;
}

export const noHookMetrics: HookMetrics = { observe: () => {} };

const HOOK_NAMES = new Set<string>(['beforeCall', 'afterCall', ...HOOK_POINTS]);
const PLUGIN_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function createHookMetrics(registry: Registry): HookMetrics {
  const registers = [registry];
  const labelNames = ['plugin', 'hook'] as const;
  const runs = new Counter({
    name: 'recap_plugin_hook_runs_total',
    help: 'Plugin hook runs, by plugin and hook.',
    labelNames,
    registers,
  });
  const errors = new Counter({
    name: 'recap_plugin_hook_errors_total',
    help: 'Plugin hook runs that failed, by plugin, hook and reason (error, timeout, invalid: a return value outside its bounds).',
    labelNames: [...labelNames, 'reason'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'recap_plugin_hook_duration_seconds',
    help: 'Time the request waited on a plugin hook (up to its timeout), by plugin and hook.',
    labelNames,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers,
  });
  return {
    observe({ plugin, hook, status, seconds }) {
      const labels = { plugin: PLUGIN_NAME.test(plugin) ? plugin : 'other', hook: HOOK_NAMES.has(hook) ? hook : 'other' };
      runs.inc(labels);
      duration.observe(labels, seconds);
      if (status !== 'ok') errors.inc({ ...labels, reason: status });
    },
  };
}

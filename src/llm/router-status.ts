/**
 * What the router knows about its targets, in two views: the operator's
 * (`GET /status`: every target and credential scope, this process and the
 * deployment) and a guild's (`/ai-config status`: that guild's targets, with
 * the operator's circuits and its own key's, never another guild's).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { CircuitSnapshot } from './router/breakers.ts';
import type { LatencyFigures, LatencyWindow } from './router/latency-window.ts';
import type { SharedTargets } from './router/shared-targets.ts';
import type { Target } from './router/types.ts';

export type CircuitLabel = 'closed' | 'open' | 'half_open';

export interface TargetStatus {
  target: string;
  /** 'operator', or 'guild:<id>' for a guild's own key (operator view only). */
  scope: string;
  circuit: CircuitLabel;
  /** ISO time an open circuit lets its next probe through. */
  circuitRetryAt: string | null;
  cooldownUntil: string | null;
  latencyMs: LatencyFigures | null;
}

export interface SharedLatency {
  target: string;
  p50: number;
  p95: number;
  calls: number;
}

export interface RouterStatusReport {
  at: string;
  process: { pid: number; latencyWindowSeconds: number; targets: TargetStatus[] };
  shared: { store: 'postgres' | 'process'; latencyWindowSeconds: number; targets: TargetStatus[]; latencyMs: SharedLatency[] };
}

interface StatusSources {
  circuits: () => CircuitSnapshot[];
  shared: SharedTargets;
  latency: LatencyWindow;
  now: () => number;
}

const MAX_ROWS = 500;
const SHARED_LATENCY_WINDOW_MS = 15 * 60_000;

const label = (state: CircuitSnapshot['state']): CircuitLabel => (state === 'half-open' ? 'half_open' : state);
const iso = (ms: number | undefined): string | null => (ms !== undefined && ms > 0 ? new Date(ms).toISOString() : null);

export function processTargets(src: StatusSources): TargetStatus[] {
  const out: TargetStatus[] = [];
  const seen = new Set<string>();
  for (const c of src.circuits()) {
    const guildId = c.scope === 'operator' ? undefined : c.scope.guildId;
    seen.add(`${c.target}\u0000${guildId ?? ''}`);
    out.push({
      target: c.target,
      scope: guildId === undefined ? 'operator' : `guild:${guildId}`,
      circuit: label(c.state),
      circuitRetryAt: c.state === 'closed' ? null : iso(c.retryAt),
      cooldownUntil: iso(src.shared.cooldownUntil(c.target, guildId)),
      latencyMs: guildId === undefined ? (src.latency.figures(c.target) ?? null) : null,
    });
  }
  // Targets that answered here but never needed a breaker entry of their own are covered by the bank; these are the rest.
  for (const target of src.latency.targets()) {
    if (seen.has(`${target}\u0000`)) continue;
    out.push({ target, scope: 'operator', circuit: 'closed', circuitRetryAt: null, cooldownUntil: iso(src.shared.cooldownUntil(target, undefined)), latencyMs: src.latency.figures(target) ?? null });
  }
  return out.slice(0, MAX_ROWS);
}

export function sharedTargets(src: StatusSources): TargetStatus[] {
  const now = src.now();
  return src.shared
    .rows()
    .slice(0, MAX_ROWS)
    .map((r) => ({
      target: r.target,
      scope: r.guildId === undefined ? 'operator' : `guild:${r.guildId}`,
      circuit: r.openUntil === undefined ? 'closed' : r.openUntil > now ? 'open' : 'half_open',
      circuitRetryAt: iso(r.openUntil),
      cooldownUntil: iso(r.cooldownUntil),
      latencyMs: null,
    }));
}

/** p50/p95 of answered calls per target over the last 15 minutes, from `llm_calls` (every process writes there). */
export async function sharedLatency(db: Kysely<Database>, now: number): Promise<SharedLatency[]> {
  const since = new Date(now - SHARED_LATENCY_WINDOW_MS);
  const rows = await db
    .selectFrom('llm_calls')
    .select([
      'provider',
      'model',
      sql<number>`percentile_cont(0.5) within group (order by latency_ms)`.as('p50'),
      sql<number>`percentile_cont(0.95) within group (order by latency_ms)`.as('p95'),
      sql<string>`count(*)`.as('calls'),
    ])
    .where('created_at', '>=', since)
    .where('outcome', '=', 'ok')
    .where('provider', 'is not', null)
    .groupBy(['provider', 'model'])
    .limit(MAX_ROWS)
    .execute();
  return rows.map((r) => ({
    target: `${r.provider ?? ''}/${r.model ?? ''}`,
    p50: Math.round(Number(r.p50) * 10) / 10,
    p95: Math.round(Number(r.p95) * 10) / 10,
    calls: Number(r.calls),
  }));
}

/**
 * A guild's targets: the operator's circuit and cooldown, or those of the
 * guild's own key when it has one in use, and this process's recent latency.
 */
export function guildTargets(src: StatusSources, plan: readonly Target[], guildId: string): TargetStatus[] {
  const circuits = src.circuits();
  return plan.slice(0, 50).map((t) => {
    const name = `${t.provider}/${t.model}`;
    const own = circuits.find((c) => c.target === name && c.scope !== 'operator' && c.scope.guildId === guildId);
    const operator = circuits.find((c) => c.target === name && c.scope === 'operator');
    const c = own ?? operator;
    const scopeId = own !== undefined ? guildId : undefined;
    return {
      target: name,
      scope: own !== undefined ? 'own key' : 'operator',
      circuit: c === undefined ? 'closed' : label(c.state),
      circuitRetryAt: c === undefined || c.state === 'closed' ? null : iso(c.retryAt),
      cooldownUntil: iso(src.shared.cooldownUntil(name, scopeId)),
      latencyMs: src.latency.figures(name) ?? null,
    };
  });
}

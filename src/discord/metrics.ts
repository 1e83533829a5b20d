/**
 * Prometheus metrics of the Discord side: interactions by command, kind and
 * outcome with their latency, and each gateway shard's state and heartbeat
 * ping. Command names come from Discord payloads, so only the bot's own
 * command names become label values; anything else is `unknown`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ShardView } from './gateway-readiness.ts';

export type InteractionKind = 'command' | 'component' | 'autocomplete';
/** ok; refused: a clear answer to the member (UserFacingError); failed: an unexpected error; unknown: no such handler; draining: shutting down. */
export type InteractionOutcome = 'ok' | 'refused' | 'failed' | 'unknown' | 'draining';

export interface DiscordMetrics {
  interaction(sample: { kind: InteractionKind; command: string; outcome: InteractionOutcome; seconds: number }): void;
  /** Read when Prometheus scrapes, so the gauges are exact; the latest reader replaces any earlier one. */
  watchShards(read: () => readonly ShardView[]): void;
}

const DISCORD_METRIC_NAMES = {
  interactions: 'recap_discord_interactions_total',
  duration: 'recap_discord_interaction_duration_seconds',
  shardUp: 'recap_discord_shard_up',
  ping: 'recap_discord_gateway_ping_seconds',
} as const;

export function createDiscordMetrics(registry: Registry, commandNames: readonly string[]): DiscordMetrics {
  const known = new Set(commandNames);
  const registers = [registry];
  const interactions = new Counter({
    name: DISCORD_METRIC_NAMES.interactions,
    help: 'Discord interactions handled, by command, kind (command, component, autocomplete) and outcome.',
    labelNames: ['command', 'kind', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: DISCORD_METRIC_NAMES.duration,
    help: 'Time from receiving a Discord interaction to the end of its handler (the final answer included).',
    labelNames: ['command', 'kind', 'outcome'] as const,
    // Commands that call a language model take tens of seconds; refusals take milliseconds.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160],
    registers,
  });
  let readShards: (() => readonly ShardView[]) | undefined;
  new Gauge({
    name: DISCORD_METRIC_NAMES.shardUp,
    help: "Whether a gateway shard of this process is READY (1) or not (0).",
    labelNames: ['shard'] as const,
    registers,
    collect() {
      if (readShards === undefined) return;
      this.reset();
      for (const shard of readShards()) this.set({ shard: String(shard.id) }, shard.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: DISCORD_METRIC_NAMES.ping,
    help: "A gateway shard's last heartbeat round trip, in seconds.",
    labelNames: ['shard'] as const,
    registers,
    collect() {
      if (readShards === undefined) return;
      this.reset();
      for (const shard of readShards()) if (shard.pingMs !== undefined) this.set({ shard: String(shard.id) }, shard.pingMs / 1000);
    },
  });
  return {
    interaction({ kind, command, outcome, seconds }) {
      const name = known.has(command) ? command : 'unknown';
      interactions.labels(name, kind, outcome).inc();
      duration.labels(name, kind, outcome).observe(seconds);
    },
    watchShards(read) {
      readShards = read;
    },
  };
}

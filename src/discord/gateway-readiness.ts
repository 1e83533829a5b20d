import { Status, type Client } from 'discord.js';

/** One gateway shard as readiness and metrics see it. */
export interface ShardView {
  id: number;
  ready: boolean;
  /** What it is doing when not ready, for the 503 reason (`reconnecting`, `process exited`, …). */
  state: string;
  /** Last heartbeat round trip in ms; undefined before the first one, or where it is not known (the shard manager). */
  pingMs?: number;
}

/** The Discord connection of a process or of a whole sharded deployment. */
export interface GatewayView {
  /** Whether the connection has been READY once; before that a 503 says it is still starting. */
  everReady: boolean;
  shards: readonly ShardView[];
}

export type GatewayReadinessResult = { ready: true } | { ready: false; state: 'starting' | 'disconnected'; reason: string };

/**
 * Whether the Discord side may take traffic: 503 until the gateway was READY,
 * and again while every shard is disconnected (one shard up still serves its
 * guilds). A process without DISCORD_TOKEN never calls `expect`, and its
 * readiness leaves Discord out.
 */
export interface GatewayReadiness {
  /** A Discord connection is expected from now on. */
  expect(): void;
  /** Where the shards are read from; the latest call wins. */
  watch(read: () => GatewayView): void;
  /** undefined: no Discord connection is expected here. */
  check(): GatewayReadinessResult | undefined;
}

export function createGatewayReadiness(): GatewayReadiness {
  let expected = false;
  let read: (() => GatewayView) | undefined;
  return {
    expect() {
      expected = true;
    },
    watch(reader) {
      read = reader;
    },
    check() {
      if (!expected) return undefined;
      const view = read?.() ?? { everReady: false, shards: [] };
      if (view.shards.some((s) => s.ready)) return { ready: true };
      const states = view.shards.length === 0 ? 'not connected yet' : view.shards.map((s) => `shard ${s.id}: ${s.state}`).join(', ');
      return view.everReady
        ? { ready: false, state: 'disconnected', reason: `discord: every gateway shard is disconnected (${states})` }
        : { ready: false, state: 'starting', reason: `discord: waiting for the gateway's READY (${states})` };
    },
  };
}

const STATUS_NAMES: Record<number, string> = {
  [Status.Ready]: 'ready',
  [Status.Connecting]: 'connecting',
  [Status.Reconnecting]: 'reconnecting',
  [Status.Idle]: 'idle',
  [Status.Nearly]: 'nearly ready',
  [Status.Disconnected]: 'disconnected',
  [Status.WaitingForGuilds]: 'waiting for guilds',
  [Status.Identifying]: 'identifying',
  [Status.Resuming]: 'resuming',
};

/** The shards of one discord.js client, read from its own state (no event bookkeeping to drift). */
export function clientGatewayView(client: Client): GatewayView {
  return {
    everReady: client.readyTimestamp !== null,
    shards: [...client.ws.shards.values()].map((shard) => ({
      id: shard.id,
      ready: shard.status === Status.Ready,
      state: STATUS_NAMES[shard.status] ?? `status ${shard.status}`,
      ...(shard.ping >= 0 ? { pingMs: shard.ping } : {}),
    })),
  };
}

import { hostname } from 'node:os';
import type { App } from '../app.ts';
import { ConfigError, type Config, type Sharding } from '../config/env.ts';
import { startShardManager, type ShardManager } from './manager.ts';
import { claimShards, ShardClaimConflict, shardHolderName, type ShardClaims } from './shard-claims.ts';
import { resolveShardCount } from './shard-count.ts';
import { mountShardedMetrics } from './metrics-route.ts';
import { answerMetricsRequests, type ParentChannel } from './shard-metrics.ts';

/** What `npm start` does beyond the app itself, by the process's part in a deployment (SHARDS). */
export interface ShardingRole {
  /** The "running" log line. */
  readonly running: { message: string; fields: Record<string, unknown> };
  /** Passes a signal on to the shard processes (manager only). */
  forward(signal: NodeJS.Signals): void;
  /** Stops the shard processes (manager only); false when one did not stop cleanly. */
  stop(): Promise<boolean>;
  /** Shard only: `callback` runs when the manager is gone (its IPC channel closed), so the shard does not outlive it. */
  onOrphaned(callback: () => void): void;
}

/** Extra fields on every log line: which shard wrote it. */
export function shardLogFields(sharding: Sharding): Record<string, unknown> {
  if (sharding.role !== 'shard') return {};
  return { shard: sharding.ids.length === 1 ? sharding.ids[0] : sharding.ids };
}

/**
 * Called once the app started. `entry` is the file shard processes run
 * (the service's own entry); `parent` is this process when it is a shard.
 */
export async function startShardingRole(config: Config, app: App, entry: string, parent: ParentChannel & NodeJS.EventEmitter = process): Promise<ShardingRole> {
  const sharding = config.sharding;
  switch (sharding.role) {
    case 'single':
      return { running: { message: 'recap-bot is running', fields: { role: config.role } }, forward: () => undefined, stop: async () => true, onOrphaned: () => undefined };
    case 'shard': {
      const stopAnswering = answerMetricsRequests(parent, app.metrics);
      // discord.js reports the shard's state to the manager without a callback, so once the
      // manager is gone each report is an 'error' event on the process (fatal unhandled).
      parent.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ERR_IPC_CHANNEL_CLOSED') return;
        app.logger.warn({ err: error }, 'the channel to the shard manager failed');
      });
      return {
        running: { message: 'recap-bot shard is running', fields: { shards: sharding.ids, of: sharding.count } },
        forward: () => undefined,
        stop: async () => {
          stopAnswering();
          return true;
        },
        onOrphaned: (callback) => void parent.once('disconnect', callback),
      };
    }
    case 'manager': {
      if (config.discord.token === undefined) throw new Error('SHARDS needs DISCORD_TOKEN');
      const count = await resolveShardCount(sharding.shards, config.discord.token, config.discord.apiUrl);
      const ids = sharding.ids ?? [...Array(count).keys()];
      const claims = await claimShardsOf(app, ids, count, sharding.ids === undefined ? 'SHARDS' : 'SHARD_IDS');
      let shards: ShardManager;
      try {
        shards = await startShardManager({
          entry,
          token: config.discord.token,
          apiUrl: config.discord.apiUrl,
          shards: count,
          ids,
          spawnDelayMs: sharding.spawnDelayMs,
          logger: app.logger,
          watchGateway: (read) => app.gateway.watch(read),
        });
      } catch (error) {
        await claims?.release();
        throw error;
      }
      mountShardedMetrics(app.http, app.metrics, shards);
      return {
        running: {
          message: 'recap-bot is running',
          // SHARD_IDS: this host's part (`shardIds`) of the deployment's total (`of`).
          fields: { role: config.role, ...(sharding.ids === undefined ? { shards: shards.count } : { shards: shards.ids.length, shardIds: shards.ids, of: shards.count }) },
        },
        forward: (signal) => shards.forward(signal),
        stop: async () => {
          const clean = await shards.stop();
          await claims?.release();
          return clean;
        },
        onOrphaned: () => undefined,
      };
    }
  }
}

/** Holds this host's shards in the shared Postgres, so no other host runs them too (see shard-claims.ts). */
async function claimShardsOf(app: App, ids: readonly number[], count: number, variable: string): Promise<ShardClaims | undefined> {
  const pool = app.database.pool;
  // The configuration allows managers on Postgres only; an injected test database may have no pool.
  if (pool === undefined) return undefined;
  try {
    return await claimShards({ connection: pool.options, ids, count, holderName: shardHolderName(hostname(), process.pid), logger: app.logger });
  } catch (error) {
    if (error instanceof ShardClaimConflict) throw new ConfigError(variable, error.message);
    throw error;
  }
}

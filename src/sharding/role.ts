import type { App } from '../app.ts';
import type { Config, Sharding } from '../config/env.ts';
import { startShardManager } from './manager.ts';
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
      return { running: { message: 'recap-bot is running', fields: {} }, forward: () => undefined, stop: async () => true, onOrphaned: () => undefined };
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
      const shards = await startShardManager({
        entry,
        token: config.discord.token,
        apiUrl: config.discord.apiUrl,
        shards: sharding.shards,
        spawnDelayMs: sharding.spawnDelayMs,
        logger: app.logger,
        watchGateway: (read) => app.gateway.watch(read),
      });
      mountShardedMetrics(app.http, app.metrics, shards);
      return {
        running: { message: 'recap-bot is running', fields: { shards: shards.count } },
        forward: (signal) => shards.forward(signal),
        stop: () => shards.stop(),
        onOrphaned: () => undefined,
      };
    }
  }
}

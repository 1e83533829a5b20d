import type { Shard, ShardingManager } from 'discord.js';
import type { GatewayView } from '../discord/gateway-readiness.ts';

/**
 * The manager's view of its shards' gateway connections, from the events
 * each shard process sends (discord.js keeps only `ready`, not why a shard
 * is not). Call before `spawn`, so every shard is seen from its start.
 */
export function trackShardGateways(manager: ShardingManager): () => GatewayView {
  const notReadyBecause = new Map<number, string>();
  let everReady = false;
  manager.on('shardCreate', (shard: Shard) => {
    const becauseOf = (state: string) => () => void notReadyBecause.set(shard.id, state);
    notReadyBecause.set(shard.id, 'starting');
    shard.on('ready', () => void (everReady = true));
    shard.on('resume', () => void (everReady = true));
    shard.on('spawn', becauseOf('starting'));
    shard.on('reconnecting', becauseOf('reconnecting'));
    shard.on('disconnect', becauseOf('disconnected'));
    shard.on('death', becauseOf('process exited'));
  });
  return () => ({
    everReady,
    shards: [...manager.shards.values()].map((shard) => ({
      id: shard.id,
      ready: shard.ready,
      state: shard.ready ? 'ready' : (notReadyBecause.get(shard.id) ?? 'starting'),
    })),
  });
}

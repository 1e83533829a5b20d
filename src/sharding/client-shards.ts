import type { Sharding } from '../config/env.ts';

/**
 * The shards this process's Discord client connects: its own in a shard
 * process, the only one otherwise. Given explicitly, so discord.js never
 * reads SHARDS from the environment itself (an empty `SHARDS=` there would
 * make it fail to parse).
 */
export function clientShards(sharding: Sharding): { shards: number[]; shardCount: number } {
  return sharding.role === 'shard' ? { shards: sharding.ids, shardCount: sharding.count } : { shards: [0], shardCount: 1 };
}

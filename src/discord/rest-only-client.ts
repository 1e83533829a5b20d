import { Client } from 'discord.js';

/**
 * A discord.js client that never connects to the gateway: guilds, members,
 * roles and channels are fetched over REST. The web role (dashboard, API,
 * feeds) uses it to see permissions as they stand now.
 *
 * The shard options are explicit because discord.js otherwise reads
 * `SHARDS`/`SHARD_COUNT` from the environment, where this deployment keeps
 * its own values (`SHARDS=auto`), which are not discord.js's JSON.
 */
export function restOnlyClient(options: { token: string; apiUrl?: string | undefined }): Client {
  const client = new Client({ intents: [], shards: [0], shardCount: 1, ...(options.apiUrl === undefined ? {} : { rest: { api: options.apiUrl } }) });
  client.rest.setToken(options.token);
  return client;
}

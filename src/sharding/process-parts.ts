import type { Config } from '../config/env.ts';
import type { HttpServer } from '../http/server.ts';

/**
 * What one process of a deployment runs, from RECAP_ROLE and its part in
 * sharding:
 *
 * | process                         | HTTP port | webhook intake, GitHub App setup, sweeper | Discord client |
 * | ------------------------------- | --------- | ----------------------------------------- | -------------- |
 * | `all`, no SHARDS                 | yes       | yes                                       | here           |
 * | `all` with SHARDS / SHARD_IDS    | yes       | yes                                       | shard children |
 * | `web`                           | yes       | yes                                       | never          |
 * | `shards`, no SHARDS              | yes       | no: health and metrics only               | here           |
 * | `shards` with SHARDS / SHARD_IDS | yes       | no: health and metrics only               | shard children |
 * | a shard child                   | no        | no                                        | here           |
 */
export interface ProcessParts {
  /** Listens on HTTP_PORT (a shard child leaves that to its manager). */
  listens: boolean;
  /** Takes GitHub's webhooks and the App's setup redirect, and sweeps queued deliveries. */
  intake: boolean;
  /** Why this process runs no Discord client, or `here`. */
  discord: 'here' | 'shard-children' | 'web-role' | 'no-token';
}

export function processParts(config: Pick<Config, 'role' | 'sharding' | 'discord'>): ProcessParts {
  const child = config.sharding.role === 'shard';
  return {
    listens: !child,
    intake: !child && config.role !== 'shards',
    discord:
      config.role === 'web'
        ? 'web-role'
        : config.sharding.role === 'manager'
          ? 'shard-children'
          : config.discord.token === undefined
            ? 'no-token'
            : 'here',
  };
}

/**
 * The server as seen by routes a process does not serve: mounting on it does
 * nothing, so a shards host answers 404 on the webhook and setup paths
 * while the parts behind them (used by its Discord commands) still exist.
 */
export function withoutRoutes(http: HttpServer): HttpServer {
  return {
    route: () => undefined,
    routePrefix: () => undefined,
    listen: (port, host) => http.listen(port, host),
    close: () => http.close(),
    get server() {
      return http.server;
    },
    get bodies() {
      return http.bodies;
    },
  };
}

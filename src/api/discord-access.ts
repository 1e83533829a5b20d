/**
 * The Discord side of the API: a guild fetched over REST (the `web` role
 * runs no gateway), and who a key acts as there now: the admin who created
 * it, with Manage Server still, and the channels they can read at this
 * moment (`channelsReadableBy`).
 */
import { DiscordAPIError, PermissionFlagsBits, Routes, type APIUser, type Guild, type GuildTextBasedChannel } from 'discord.js';
import { LRUCache } from 'lru-cache';
import type { Secret } from '../config/secret.ts';
import { channelsReadableBy } from '../discord/visibility/readable-by.ts';
import { restOnlyClient } from '../discord/rest-only-client.ts';
import { problem, ProblemError } from './problem.ts';

export interface GuildAccess {
  /** @throws ProblemError 404 (the bot is not in it) or 503 (Discord unreachable). */
  guild(guildId: string): Promise<Guild>;
  /**
   * The channels `userId` can read in `guild` now.
   * @throws ProblemError 403 when they are no longer a member with Manage Server.
   */
  readableByAdmin(guild: Guild, userId: string, threadIds?: readonly string[]): Promise<Set<string>>;
  /** Whether the bot itself can read the channel's history (a REST-only client has no `guild.members.me`). */
  botCanRead(channel: GuildTextBasedChannel): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A REST-only discord.js client: the token is set, no gateway login.
 * `cacheMs` (0: off) reuses a guild and an admin's readable channels for
 * that long: each decision costs five Discord requests, and Discord allows
 * a bot 50 a second in all, so without it the API would be held to about
 * ten requests a second. Permissions are then at most `cacheMs` old.
 */
export function createRestGuildAccess(options: { token: Secret; apiUrl?: string | undefined; cacheMs?: number }): GuildAccess {
  const ttl = options.cacheMs ?? 0;
  const guilds = ttl > 0 ? new LRUCache<string, Guild>({ max: 1_000, ttl }) : undefined;
  const readableCache = ttl > 0 ? new LRUCache<string, { readable: Set<string>; admin: boolean }>({ max: 10_000, ttl }) : undefined;
  const client = restOnlyClient({ token: options.token.reveal(), apiUrl: options.apiUrl });
  let botId: Promise<string> | undefined;
  const ownId = (): Promise<string> => {
    botId ??= (client.rest.get(Routes.user()) as Promise<APIUser>).then((user) => user.id);
    botId.catch(() => (botId = undefined));
    return botId;
  };
  return {
    async guild(guildId) {
      const cached = guilds?.get(guildId);
      if (cached !== undefined) return cached;
      try {
        const guild = await client.guilds.fetch({ guild: guildId, force: true });
        guilds?.set(guildId, guild);
        return guild;
      } catch (error) {
        if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) {
          throw new ProblemError(problem(404, 'guild-not-found', 'The bot is not in this server.'));
        }
        throw new ProblemError(problem(503, 'discord-unavailable', 'Discord did not answer; retry later.'), { 'retry-after': '10' });
      }
    },
    async readableByAdmin(guild, userId, threadIds = []) {
      const cacheKey = `${guild.id}:${userId}`;
      let decided = readableCache?.get(cacheKey);
      // A thread not decided with the cached answer is decided now.
      if (decided !== undefined && threadIds.some((id) => !decided!.readable.has(id))) decided = undefined;
      if (decided === undefined) {
        let readable: Set<string>;
        try {
          readable = await channelsReadableBy(guild, userId, { threadIds });
        } catch {
          throw new ProblemError(problem(503, 'discord-unavailable', 'Discord did not answer; retry later.'), { 'retry-after': '10' });
        }
        const member = guild.members.cache.get(userId);
        decided = { readable, admin: member !== undefined && member.permissions.has(PermissionFlagsBits.ManageGuild) };
        readableCache?.set(cacheKey, decided);
      }
      const { readable } = decided;
      if (!decided.admin) {
        throw new ProblemError(problem(403, 'key-admin-not-admin', 'The admin who created this key no longer has Manage Server in this server, so the key cannot act.'));
      }
      return readable;
    },
    async botCanRead(channel) {
      const me = await channel.guild.members.fetch({ user: await ownId(), force: true }).catch(() => null);
      return me !== null && channel.permissionsFor(me).has([PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory]);
    },
    async close() {
      await client.destroy();
    },
  };
}

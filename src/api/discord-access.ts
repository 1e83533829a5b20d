/**
 * The Discord side of the API: a guild fetched over REST (the `web` role
 * runs no gateway), and who a key acts as there now: the admin who created
 * it, with Manage Server still, and the channels they can read at this
 * moment (`channelsReadableBy`).
 */
import { Client, DiscordAPIError, PermissionFlagsBits, Routes, type APIUser, type Guild, type GuildTextBasedChannel } from 'discord.js';
import type { Secret } from '../config/secret.ts';
import { channelsReadableBy } from '../discord/visibility/readable-by.ts';
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

/** A REST-only discord.js client: the token is set, no gateway login. */
export function createRestGuildAccess(options: { token: Secret; apiUrl?: string | undefined }): GuildAccess {
  const client = new Client({ intents: [], ...(options.apiUrl === undefined ? {} : { rest: { api: options.apiUrl } }) });
  client.rest.setToken(options.token.reveal());
  let botId: Promise<string> | undefined;
  const ownId = (): Promise<string> => {
    botId ??= (client.rest.get(Routes.user()) as Promise<APIUser>).then((user) => user.id);
    botId.catch(() => (botId = undefined));
    return botId;
  };
  return {
    async guild(guildId) {
      try {
        return await client.guilds.fetch({ guild: guildId, force: true });
      } catch (error) {
        if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) {
          throw new ProblemError(problem(404, 'guild-not-found', 'The bot is not in this server.'));
        }
        throw new ProblemError(problem(503, 'discord-unavailable', 'Discord did not answer; retry later.'), { 'retry-after': '10' });
      }
    },
    async readableByAdmin(guild, userId, threadIds = []) {
      let readable: Set<string>;
      try {
        readable = await channelsReadableBy(guild, userId, { threadIds });
      } catch {
        throw new ProblemError(problem(503, 'discord-unavailable', 'Discord did not answer; retry later.'), { 'retry-after': '10' });
      }
      const member = guild.members.cache.get(userId);
      if (member === undefined || !member.permissions.has(PermissionFlagsBits.ManageGuild)) {
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

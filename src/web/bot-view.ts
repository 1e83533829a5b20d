import { restOnlyClient } from '../discord/rest-only-client.ts';
import { ChannelType, DiscordAPIError, PermissionFlagsBits, Routes, type Guild, type GuildMember } from 'discord.js';
import { channelsReadableBy } from '../discord/visibility/readable-by.ts';

/** A channel a page may offer (the tester's channel list, the history filter). */
export interface ViewChannel {
  id: string;
  name: string;
}

/**
 * The bot's own view of Discord, by REST only (the `web` role runs no
 * gateway): which guilds it is in, whether a member holds Manage Server now,
 * and which channels a member can read now. Everything is fetched per
 * request, never from a cache, because permissions change.
 */
export interface BotView {
  /** Ids of the guilds the bot is in. */
  guildIds(): Promise<Set<string>>;
  /** The guild, or undefined when the bot is not in it. */
  guild(guildId: string): Promise<Guild | undefined>;
  isAdmin(guild: Guild, userId: string): Promise<boolean>;
  /** `threadIds`: threads (archived ones too) to decide besides the active ones, e.g. those summaries came from. */
  readableChannels(guild: Guild, userId: string, threadIds?: readonly string[]): Promise<Set<string>>;
  /** Text-like channels of the guild among `readable` (from readableChannels), in the guild's order. */
  textChannels(guild: Guild, readable: ReadonlySet<string>): ViewChannel[];
  /** Categories of the guild, in the guild's order (after readableChannels fetched the channels). */
  categories(guild: Guild): ViewChannel[];
  /** The member as Discord has them now, or undefined when not in the guild. */
  member(guild: Guild, userId: string): Promise<GuildMember | undefined>;
  /** The bot's own member (a REST-only client has no `guild.members.me`). */
  botMember(guild: Guild): Promise<GuildMember | undefined>;
  destroy(): Promise<void>;
}

const TEXT_TYPES = new Set<ChannelType>([ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum]);

export function createBotView(deps: { token: string; apiUrl?: string | undefined }): BotView {
  const client = restOnlyClient(deps);
  const gone = (error: unknown): boolean => error instanceof DiscordAPIError && (error.status === 404 || error.status === 403);
  const member = async (guild: Guild, userId: string): Promise<GuildMember | undefined> => {
    try {
      return await guild.members.fetch({ user: userId, force: true });
    } catch (error) {
      if (gone(error)) return undefined;
      throw error;
    }
  };
  // The bot's own id never changes: asked once, and again only after a failure.
  let botId: Promise<string> | undefined;
  const ownId = (): Promise<string> => {
    botId ??= (client.rest.get(Routes.user()) as Promise<{ id: string }>).then((user) => user.id).catch((error: unknown) => {
      botId = undefined;
      throw error;
    });
    return botId;
  };
  const ordered = <T extends { rawPosition?: number }>(channels: T[]): T[] => channels.sort((a, b) => (a.rawPosition ?? 0) - (b.rawPosition ?? 0));
  return {
    async guildIds() {
      const ids = new Set<string>();
      let after: string | undefined;
      // At most 10 pages of 200: a bot in more guilds than that is sharded and its dashboard checks per guild.
      for (let page = 0; page < 10; page += 1) {
        const batch = await client.guilds.fetch({ limit: 200, ...(after === undefined ? {} : { after }) });
        for (const id of batch.keys()) ids.add(id);
        if (batch.size < 200) break;
        after = batch.lastKey();
      }
      return ids;
    },
    async guild(guildId) {
      try {
        return await client.guilds.fetch({ guild: guildId, force: true });
      } catch (error) {
        if (gone(error)) return undefined;
        throw error;
      }
    },
    async isAdmin(guild, userId) {
      try {
        const member = await guild.members.fetch({ user: userId, force: true });
        return member.permissions.has(PermissionFlagsBits.ManageGuild, true);
      } catch (error) {
        if (gone(error)) return false;
        throw error;
      }
    },
    readableChannels: (guild, userId, threadIds) => channelsReadableBy(guild, userId, threadIds === undefined ? {} : { threadIds }),
    textChannels(guild, readable) {
      // channelsReadableBy fetched the guild's channels just now.
      return [...guild.channels.cache.values()]
        .filter((c) => !c.isThread() && TEXT_TYPES.has(c.type) && readable.has(c.id))
        .sort((a, b) => ('rawPosition' in a ? a.rawPosition : 0) - ('rawPosition' in b ? b.rawPosition : 0))
        .map((c) => ({ id: c.id, name: c.name }));
    },
    categories(guild) {
      return ordered([...guild.channels.cache.values()].filter((c) => c.type === ChannelType.GuildCategory)).map((c) => ({ id: c.id, name: c.name }));
    },
    member,
    botMember: async (guild) => member(guild, await ownId()),
    destroy: () => client.destroy(),
  };
}

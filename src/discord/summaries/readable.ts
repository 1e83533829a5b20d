import type { Guild } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { channelsReadableBy } from '../visibility/readable-by.ts';
import { summarizedChannels } from '../../summaries/history.ts';

/** Summarized channels looked up by id besides the guild's own list (archived threads among them). */
const LOOKED_UP = 200;

/** The channels whose summaries `userId` may read now, archived threads that were summarized included. */
export async function readableSummaryChannels(guild: Guild, userId: string, ctx: CommandContext, only?: string): Promise<Set<string>> {
  const candidates = only === undefined ? await summarizedChannels(ctx.services.db, guild.id, LOOKED_UP) : [only];
  const threadIds = candidates.filter((id) => {
    const known = guild.channels.cache.get(id);
    return known === undefined || known.isThread();
  });
  return channelsReadableBy(guild, userId, { threadIds });
}

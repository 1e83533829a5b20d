/**
 * Whether @everyone can read a channel's history now: the test a feed must
 * pass to be public by default (anyone holding its URL reads it). A
 * private thread never passes; another thread is its parent's case. A
 * category passes when @everyone can read it as a category.
 */
import { ChannelType, PermissionFlagsBits, type Guild } from 'discord.js';

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];

export async function everyoneCanRead(guild: Guild, channelId: string): Promise<boolean> {
  return (await everyoneCanReadEach(guild, [channelId])).has(channelId);
}

/** The ones of `channelIds` @everyone can read now; the roles are fetched once for all of them. */
export async function everyoneCanReadEach(guild: Guild, channelIds: readonly string[]): Promise<Set<string>> {
  const readable = new Set<string>();
  if (channelIds.length === 0) return readable;
  // Fetched now: a REST-only client caches only what was fetched, and permissions change.
  await guild.roles.fetch(undefined, { force: true });
  for (const channelId of new Set(channelIds)) {
    const channel = await guild.channels.fetch(channelId, { force: true }).catch(() => null);
    if (channel === null) continue;
    if (channel.type === ChannelType.PrivateThread) continue;
    const target = channel.isThread() ? channel.parent : channel;
    if (target === null) continue;
    if (target.permissionsFor(guild.roles.everyone).has(READ)) readable.add(channelId);
  }
  return readable;
}

/**
 * Whether @everyone can read a channel's history now: the test a feed must
 * pass to be public by default (anyone holding its URL reads it). A
 * private thread never passes; another thread is its parent's case.
 */
import { ChannelType, PermissionFlagsBits, type Guild } from 'discord.js';

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];

export async function everyoneCanRead(guild: Guild, channelId: string): Promise<boolean> {
  // Fetched now: a REST-only client caches only what was fetched, and permissions change.
  await guild.roles.fetch(undefined, { force: true });
  const channel = await guild.channels.fetch(channelId, { force: true }).catch(() => null);
  if (channel === null) return false;
  if (channel.type === ChannelType.PrivateThread) return false;
  const target = channel.isThread() ? channel.parent : channel;
  if (target === null) return false;
  return target.permissionsFor(guild.roles.everyone).has(READ);
}

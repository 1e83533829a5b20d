/**
 * Which kinds of channel a summary can read: the one list every command
 * that picks a channel to summarize offers (/summarize, /prompt-config
 * test), and the check of a chosen channel that goes with it. A forum holds
 * posts, not messages: members pick a post (a thread) instead.
 */
import { ChannelType, type Guild, type GuildTextBasedChannel } from 'discord.js';
import { UserFacingError } from '../errors.ts';

/** The channel types offered in the channel picker of every command that summarizes. */
export const SUMMARIZABLE_TYPES = [
  ChannelType.GuildText,
  ChannelType.GuildAnnouncement,
  ChannelType.GuildVoice,
  ChannelType.GuildStageVoice,
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
  ChannelType.AnnouncementThread,
] as const;

/** The channel with this id in the guild, ready to read messages from. */
export async function summarizableChannel(guild: Guild, channelId: string): Promise<GuildTextBasedChannel> {
  let channel = guild.channels.cache.get(channelId) ?? null;
  if (channel === null) {
    // Threads are cached only while active; anything else the bot does not know it cannot see.
    channel = await guild.channels.fetch(channelId).catch(() => null);
  }
  if (channel === null) throw new UserFacingError(`I can't see <#${channelId}>, so I can't summarize it.`);
  if (channel.type === ChannelType.GuildForum || channel.type === ChannelType.GuildMedia) {
    throw new UserFacingError(`<#${channel.id}> is a forum: pick one of its posts to summarize.`);
  }
  if (!channel.isTextBased()) throw new UserFacingError(`<#${channel.id}> has no messages to summarize; pick a text channel, a thread or a forum post.`);
  return channel;
}

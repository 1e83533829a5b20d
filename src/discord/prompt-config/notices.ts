/**
 * `/prompt-config notices [channel] [off]`: where this server's admin notices
 * go (failed pushes, an unreachable repository, budget thresholds, digests,
 * given-up webhook deliveries). The bot must be able to post there.
 */
import { ChannelType, PermissionFlagsBits, type ChatInputCommandInteraction } from 'discord.js';
import { clearNoticeChannel, noticeChannelOf, setNoticeChannel } from '../../notices/notice-store.ts';
import { recordAudit } from '../../audit/audit-log.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { requireGuildAdmin } from './access.ts';

/** Channels a notice may be posted in. */
export const NOTICE_CHANNEL_TYPES = [ChannelType.GuildText, ChannelType.GuildAnnouncement] as const;

export async function runNotices(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  if (!interaction.inCachedGuild()) throw new UserFacingError('/prompt-config works in servers only.');
  const { db, clock } = ctx.services;
  const chosen = interaction.options.getChannel('channel');
  const off = interaction.options.getBoolean('off') ?? false;
  if (off && chosen !== null) throw new UserFacingError('Give either `channel` or `off`, not both.');
  await deferOnce(interaction, true);
  if (off) {
    const had = await clearNoticeChannel(db, guildId);
    await recordAudit(db, { guildId, actorId: interaction.user.id, action: 'notices.channel.clear', details: {} }).catch(() => undefined);
    await replyPrivately(interaction, { content: had ? 'Admin notices no longer go to a channel; they show in `/prompt-config status` and `/ai-config status`.' : 'No notices channel was set.' });
    return;
  }
  if (chosen === null) {
    const current = await noticeChannelOf(db, guildId);
    await replyPrivately(interaction, {
      content: current === undefined ? 'No notices channel is set: notices show in `/prompt-config status` and `/ai-config status`. Set one with `/prompt-config notices channel:#…`.' : `Admin notices go to <#${current}>.`,
    });
    return;
  }
  const channel = interaction.guild.channels.cache.get(chosen.id) ?? (await interaction.guild.channels.fetch(chosen.id).catch(() => null));
  if (channel === null || !(NOTICE_CHANNEL_TYPES as readonly ChannelType[]).includes(channel.type)) throw new UserFacingError(`<#${chosen.id}> is not a text channel I can see.`);
  const me = interaction.guild.members.me ?? (await interaction.guild.members.fetchMe().catch(() => null));
  if (me === null || !channel.permissionsFor(me).has([PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages])) {
    throw new UserFacingError(`I can't post in <#${channel.id}>: I need the View Channel and Send Messages permissions there.`);
  }
  await setNoticeChannel(db, guildId, channel.id, interaction.user.id, new Date(clock.now()));
  await recordAudit(db, { guildId, actorId: interaction.user.id, action: 'notices.channel.set', details: { channelId: channel.id } }).catch(() => undefined);
  const everyone = channel.permissionsFor(interaction.guild.roles.everyone).has(PermissionFlagsBits.ViewChannel);
  await replyPrivately(interaction, {
    content: `Admin notices go to <#${channel.id}> now.${everyone ? ' Note: everyone in the server can see that channel, and notices name repositories, files and spending.' : ''}`,
  });
}

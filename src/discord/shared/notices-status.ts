/**
 * The admin notices part of `/prompt-config status` and `/ai-config status`:
 * where notices go, and the recent ones that reached no channel (none is
 * set, or the bot could not post there), with how often each recurred.
 */
import type { APIEmbed } from 'discord.js';
import { noticeChannelOf, recentNotices, type StoredNotice } from '../../notices/notice-store.ts';
import type { CommandContext } from '../command.ts';
import { boundedEmbed, EmbedColors } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedLines, discordTime, truncate } from '../format/text.ts';
import { plainText } from '../format/untrusted.ts';

const SHOWN = 5;
const WINDOW_MS = 7 * 86_400_000;

export async function noticesEmbeds(ctx: CommandContext, guildId: string): Promise<APIEmbed[]> {
  const { db, clock } = ctx.services;
  const channelId = await noticeChannelOf(db, guildId);
  const pending = await recentNotices(db, guildId, new Date(clock.now() - WINDOW_MS), SHOWN, true);
  if (channelId !== undefined && pending.length === 0) return [];
  const where =
    channelId === undefined
      ? 'No notices channel is set, so recent notices show here. Pick one with `/prompt-config notices channel:#…`.'
      : `Notices go to <#${channelId}>; these could not be posted there.`;
  const lines = pending.map(noticeLines);
  const body = lines.length === 0 ? 'No notices in the last 7 days.' : boundedLines(lines, { max: DiscordLimits.embedDescription - where.length - 2 }).text;
  return [boundedEmbed({ title: 'Admin notices', color: pending.length === 0 ? EmbedColors.info : EmbedColors.warning, description: `${where}\n\n${body}` })];
}

function noticeLines(notice: StoredNotice): string {
  const count = notice.total > 1 ? ` (×${notice.total}, ${notice.repeats} in the last hour it occurred)` : '';
  const detail = notice.lines.slice(0, 3).map((l) => `> ${truncate(plainText(l), 300)}`);
  const failed = notice.deliveryError !== null && notice.deliveryError !== 'no notices channel set' ? [`> -# ${truncate(plainText(notice.deliveryError), 200)}`] : [];
  return [`**${truncate(plainText(notice.title), 200)}** · ${discordTime(notice.lastAt, 'R')}${count}`, ...detail, ...(notice.link === null ? [] : [`> ${plainText(notice.link)}`]), ...failed].join('\n');
}

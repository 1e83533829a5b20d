/**
 * `/recap-config feed create|list|revoke`: Atom feeds of a channel's
 * summaries (src/feeds/). Anyone holding a feed's URL reads it, so a feed
 * is made only of a channel @everyone can read, unless the admin sets
 * `confirm_private:true` (recorded with the feed and in the audit log).
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { everyoneCanRead } from '../../feeds/everyone-can-read.ts';
import { FeedLimitError, FeedStore } from '../../feeds/feed-store.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { requireMemberCanRead } from '../history/channel-access.ts';
import { summarizableChannel } from '../shared/channel-kinds.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { escapeMarkdown, recapConfigAdmin } from './api-keys.ts';

export async function runFeedCreate(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  if (!interaction.inCachedGuild()) throw new UserFacingError('/recap-config works in server channels only.');
  const channel = await summarizableChannel(interaction.guild, interaction.options.getChannel('channel', true).id);
  await requireMemberCanRead(channel, interaction.member, channel.id === interaction.channelId);
  const confirmPrivate = interaction.options.getBoolean('confirm_private') ?? false;
  const isPublic = await everyoneCanRead(interaction.guild, channel.id);
  if (!isPublic && !confirmPrivate) {
    throw new UserFacingError(
      `@everyone can't read <#${channel.id}>, and anyone who gets a feed's URL can read the feed. To make it anyway, run the command again with \`confirm_private:True\`.`,
    );
  }
  const title = `#${channel.name} summaries`;
  let created;
  try {
    created = await new FeedStore(ctx.services.db, () => ctx.services.clock.now()).create({
      guildId,
      kind: 'channel',
      targetId: channel.id,
      title,
      confirmedPrivate: !isPublic,
      createdBy: interaction.user.id,
    });
  } catch (error) {
    if (error instanceof FeedLimitError) throw new UserFacingError('This server already has the most feeds it may hold; revoke one with `/recap-config feed revoke` first.', { cause: error });
    throw error;
  }
  await recordAudit(ctx.services.db, {
    guildId,
    actorId: interaction.user.id,
    action: 'recap-config.feed.create',
    details: { feed: created.info.id, channel: channel.id, confirmedPrivate: !isPublic },
    correlationId: ctx.correlationId,
  });
  const base = ctx.services.webhooks.publicUrl ?? '<PUBLIC_URL>';
  await replyPrivately(interaction, {
    content: [
      `Atom feed of <#${channel.id}>'s summaries${isPublic ? '' : ' (**private channel: you confirmed that anyone with the URL may read it**)'}. The URL is its only key and is **shown only here, once**:`,
      `<${base}/feeds/${created.token}.atom>`,
      `Revoke it with \`/recap-config feed revoke feed:${created.info.id}\`.`,
    ].join('\n'),
  });
}

export async function runFeedList(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const feeds = await new FeedStore(ctx.services.db).list(guildId);
  if (feeds.length === 0) return replyPrivately(interaction, { content: 'This server has no feeds. Create one with `/recap-config feed create`.' });
  const line = (f: (typeof feeds)[number]) =>
    `- \`${f.id}\` ${escapeMarkdown(f.title)} (<#${f.targetId}>)${f.confirmedPrivate ? ' · private, confirmed' : ''} · by <@${f.createdBy}>${f.revokedAt === null ? '' : ' · **revoked**'}`;
  await replyPrivately(interaction, { content: `Feeds of this server (URLs are never shown again):\n${feeds.slice(0, 25).map(line).join('\n')}` });
}

export async function runFeedRevoke(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const ref = interaction.options.getString('feed', true);
  const revoked = await new FeedStore(ctx.services.db, () => ctx.services.clock.now()).revoke(guildId, ref, interaction.user.id);
  if (!revoked) throw new UserFacingError('No active feed of this server has that id. `/recap-config feed list` shows them.');
  await recordAudit(ctx.services.db, { guildId, actorId: interaction.user.id, action: 'recap-config.feed.revoke', details: {}, correlationId: ctx.correlationId });
  await replyPrivately(interaction, { content: 'Feed revoked: its URL answers 404 from now on.' });
}

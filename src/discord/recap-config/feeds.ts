/**
 * `/recap-config feed create|list|revoke`: Atom feeds of a channel's
 * summaries or of a digest's posted runs (src/feeds/). Anyone holding a
 * feed's URL reads it, so a feed is made only of a channel (a digest's
 * source and destination) @everyone can read, unless the admin sets
 * `confirm_private:true` (recorded with the feed and in the audit log).
 */
import { PermissionFlagsBits, type AutocompleteInteraction, type ChatInputCommandInteraction, type Guild, type GuildMember } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { findDigest, listDigests, type DigestRow } from '../../digests/digest-store.ts';
import { everyoneCanRead, everyoneCanReadEach } from '../../feeds/everyone-can-read.ts';
import { FeedLimitError, FeedStore } from '../../feeds/feed-store.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { requireMemberCanRead } from '../history/channel-access.ts';
import { adminGuildOf } from '../shared/access.ts';
import { summarizableChannel } from '../shared/channel-kinds.ts';
import { DiscordLimits } from '../format/limits.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { escapeMarkdown, recapConfigAdmin } from './api-keys.ts';

export async function runFeedCreate(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  if (!interaction.inCachedGuild()) throw new UserFacingError('/recap-config works in server channels only.');
  const digestRef = interaction.options.getString('digest');
  const channelOption = interaction.options.getChannel('channel');
  if ((digestRef === null) === (channelOption === null)) throw new UserFacingError('Give exactly one of `channel` (a feed of its summaries) and `digest` (a feed of its posted runs).');
  if (digestRef !== null) return createDigestFeed(interaction, ctx, guildId, digestRef);
  const channel = await summarizableChannel(interaction.guild, channelOption!.id);
  await requireMemberCanRead(channel, interaction.member, channel.id === interaction.channelId);
  const confirmPrivate = interaction.options.getBoolean('confirm_private') ?? false;
  const isPublic = await everyoneCanRead(interaction.guild, channel.id);
  if (!isPublic && !confirmPrivate) {
    throw new UserFacingError(
      `@everyone can't read <#${channel.id}>, and anyone who gets a feed's URL can read the feed. To make it anyway, run the command again with \`confirm_private:True\`.`,
    );
  }
  await issueFeed(interaction, ctx, {
    feed: { guildId, kind: 'channel', targetId: channel.id, title: `#${channel.name} summaries`, confirmedPrivate: !isPublic, createdBy: interaction.user.id },
    audited: { channel: channel.id },
    lead: `Atom feed of <#${channel.id}>'s summaries${isPublic ? '' : ' (**private channel: you confirmed that anyone with the URL may read it**)'}`,
  });
}

type NewFeed = Parameters<FeedStore['create']>[0];

/** Creates the feed, audits it, and shows its URL to the admin: once, privately. */
async function issueFeed(
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  issue: { feed: NewFeed; audited: Record<string, string>; lead: string },
): Promise<void> {
  const created = await createFeed(ctx, issue.feed);
  await recordAudit(ctx.services.db, {
    guildId: issue.feed.guildId,
    actorId: interaction.user.id,
    action: 'recap-config.feed.create',
    details: { feed: created.info.id, ...issue.audited, confirmedPrivate: issue.feed.confirmedPrivate },
    correlationId: ctx.correlationId,
  });
  const base = ctx.services.webhooks.publicUrl ?? '<PUBLIC_URL>';
  await replyPrivately(interaction, {
    content: [
      `${issue.lead}. The URL is its only key and is **shown only here, once**:`,
      `<${base}/feeds/${created.token}.atom>`,
      `Revoke it with \`/recap-config feed revoke feed:${created.info.id}\`.`,
    ].join('\n'),
  });
}

async function createFeed(ctx: CommandContext, input: NewFeed): ReturnType<FeedStore['create']> {
  try {
    return await new FeedStore(ctx.services.db, () => ctx.services.clock.now()).create(input);
  } catch (error) {
    if (error instanceof FeedLimitError) throw new UserFacingError('This server already has the most feeds it may hold; revoke one with `/recap-config feed revoke` first.', { cause: error });
    throw error;
  }
}

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];

/** The digest's source or destination, which the admin must be able to read to make a feed of it. */
async function digestChannel(guild: Guild, member: GuildMember, id: string, role: 'source' | 'destination') {
  const channel = await guild.channels.fetch(id).catch(() => null);
  if (channel === null) throw new UserFacingError(`This digest's ${role} channel no longer exists or I can't see it.`);
  if (!channel.permissionsFor(member).has(READ)) throw new UserFacingError(`You can't read this digest's ${role} <#${id}>, so I won't make a feed of it for you.`);
  return channel;
}

async function createDigestFeed(interaction: ChatInputCommandInteraction<'cached'>, ctx: CommandContext, guildId: string, ref: string): Promise<void> {
  const digest = await findDigest(ctx.services.db, guildId, ref);
  if (digest === undefined) throw new UserFacingError('This server has no digest with that id. `/digest list` shows them.');
  const source = await digestChannel(interaction.guild, interaction.member, digest.source_id, 'source');
  const destination = await digestChannel(interaction.guild, interaction.member, digest.destination_id, 'destination');
  const confirmPrivate = interaction.options.getBoolean('confirm_private') ?? false;
  const readable = await everyoneCanReadEach(interaction.guild, [source.id, destination.id]);
  const isPublic = readable.has(source.id) && readable.has(destination.id);
  if (!isPublic && !confirmPrivate) {
    throw new UserFacingError(
      `@everyone can't read this digest's source <#${source.id}> or destination <#${destination.id}>, and anyone who gets a feed's URL can read the feed. To make it anyway, run the command again with \`confirm_private:True\`.`,
    );
  }
  await issueFeed(interaction, ctx, {
    feed: { guildId, kind: 'digest', targetId: digest.id, title: `Digest ${digest.id}: #${source.name} → #${destination.name}`, confirmedPrivate: !isPublic, createdBy: interaction.user.id },
    audited: { digest: digest.id },
    lead: `Atom feed of digest \`${digest.id}\`'s posted runs (<#${source.id}> → <#${destination.id}>)${isPublic ? '' : ' (**private channels: you confirmed that anyone with the URL may read it**)'}`,
  });
}

function digestChoice(interaction: AutocompleteInteraction, digest: DigestRow): { name: string; value: string } {
  // Plain text, not a mention Discord hides: a channel's name only for a member who can see it.
  const name = (id: string) => {
    if (!interaction.inCachedGuild()) return id;
    const channel = interaction.guild.channels.cache.get(id);
    return channel !== undefined && channel.permissionsFor(interaction.member).has(PermissionFlagsBits.ViewChannel) ? channel.name : id;
  };
  return { name: `${digest.id} · #${name(digest.source_id)} → #${name(digest.destination_id)} · ${digest.cadence}${digest.paused ? ' · paused' : ''}`.slice(0, 100), value: digest.id };
}

/** The server's digests whose id or channels match what was typed (admins only; anyone else gets none). */
export async function autocompleteFeedDigest(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  const guildId = adminGuildOf(interaction);
  if (guildId === undefined) return interaction.respond([]);
  const typed = String(interaction.options.getFocused()).trim().toLowerCase();
  const choices = (await listDigests(ctx.services.db, guildId))
    .map((digest) => digestChoice(interaction, digest))
    .filter((choice) => typed === '' || choice.name.toLowerCase().includes(typed))
    .slice(0, DiscordLimits.autocompleteChoices);
  await interaction.respond(choices);
}

export async function runFeedList(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const feeds = await new FeedStore(ctx.services.db).list(guildId);
  if (feeds.length === 0) return replyPrivately(interaction, { content: 'This server has no feeds. Create one with `/recap-config feed create`.' });
  const line = (f: (typeof feeds)[number]) =>
    `- \`${f.id}\` ${escapeMarkdown(f.title)} (${f.kind === 'digest' ? `digest \`${f.targetId}\`` : `<#${f.targetId}>`})${f.confirmedPrivate ? ' · private, confirmed' : ''} · by <@${f.createdBy}>${f.revokedAt === null ? '' : ' · **revoked**'}`;
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

/**
 * Who may create and manage a digest: Manage Server, or Manage Channels on
 * both its source and its destination. Checked in every handler (a
 * command's default permissions only hide it in the client).
 */
import { PermissionFlagsBits, type ChatInputCommandInteraction, type Guild, type GuildMember } from 'discord.js';
import type { DigestRow } from '../../digests/digest-store.ts';
import { UserFacingError } from '../errors.ts';

export function hasManageServer(member: GuildMember): boolean {
  return member.permissions.has(PermissionFlagsBits.ManageGuild, true);
}

/** Manage Channels on a channel or category, as its overwrites leave it for this member. */
function managesChannel(guild: Guild, member: GuildMember, channelId: string): boolean {
  const channel = guild.channels.cache.get(channelId);
  return channel !== undefined && channel.permissionsFor(member).has(PermissionFlagsBits.ManageChannels, true);
}

export function mayManage(guild: Guild, member: GuildMember, sourceId: string, destinationId: string): boolean {
  return hasManageServer(member) || (managesChannel(guild, member, sourceId) && managesChannel(guild, member, destinationId));
}

/** @throws UserFacingError unless the member may manage a digest between these two channels. */
export function requireMayManage(guild: Guild, member: GuildMember, sourceId: string, destinationId: string): void {
  if (!mayManage(guild, member, sourceId, destinationId)) {
    throw new UserFacingError(`Managing a digest from <#${sourceId}> to <#${destinationId}> takes **Manage Server**, or **Manage Channels** on both channels.`);
  }
}

/** The guild and member of a digest command. @throws UserFacingError outside a server. */
export function digestScope(interaction: ChatInputCommandInteraction): { guild: Guild; member: GuildMember } {
  if (!interaction.inCachedGuild()) throw new UserFacingError('/digest works in a server only.');
  return { guild: interaction.guild, member: interaction.member };
}

/** A digest of this server the member may manage. @throws UserFacingError naming what is wrong. */
export function requireManageable(guild: Guild, member: GuildMember, digest: DigestRow | undefined, id: string): DigestRow {
  // An id the member may not manage reads as unknown: digests name channels they may not see.
  if (digest === undefined || !mayManage(guild, member, digest.source_id, digest.destination_id)) {
    throw new UserFacingError(`There is no digest \`${id.slice(0, 20)}\` here that you can manage; \`/digest list\` shows yours.`);
  }
  return digest;
}

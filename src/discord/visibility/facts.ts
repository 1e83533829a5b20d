/**
 * The facts the visibility rule needs, read from discord.js's caches (kept
 * current by the gateway) at the moment something is about to be shown.
 * Only private-thread membership costs requests: one per member an overwrite
 * names, at most MAX_MEMBERSHIP_LOOKUPS, since listing a thread's members
 * needs the privileged Guild Members intent the bot does not ask for.
 */
import { ChannelType, OverwriteType, type Guild, type GuildBasedChannel, type ThreadChannel } from 'discord.js';
import type { ChannelFacts, GuildFacts, OverwriteFacts, PlaceFacts, ThreadMembership } from './audience.ts';

const MAX_MEMBERSHIP_LOOKUPS = 25;

export function guildFacts(guild: Guild): GuildFacts {
  return {
    guildId: guild.id,
    ownerId: guild.ownerId,
    roles: new Map(guild.roles.cache.map((role) => [role.id, role.permissions.bitfield])),
    botRoles: new Map(guild.roles.cache.filter((role) => role.tags?.botId !== undefined).map((role) => [role.id, role.tags!.botId!])),
  };
}

/** Bots in the guild (by their managed roles): members whose thread membership is worth knowing. */
export function botsOf(guild: Guild): string[] {
  return [...new Set(guild.roles.cache.filter((role) => role.tags?.botId !== undefined).map((role) => role.tags!.botId!))];
}

function channelFacts(channel: GuildBasedChannel): ChannelFacts | undefined {
  if (channel.isThread() || !('permissionOverwrites' in channel)) return undefined;
  const permissionOverwrites: OverwriteFacts[] = channel.permissionOverwrites.cache.map((o) => ({
    id: o.id,
    type: o.type === OverwriteType.Member ? 'member' : 'role',
    allow: o.allow.bitfield,
    deny: o.deny.bitfield,
  }));
  return { id: channel.id, permissionOverwrites };
}

/**
 * A channel, thread or forum post as the rule sees it; undefined when a fact
 * is missing (a thread whose parent is not cached), which the caller must
 * treat as "not visible". `probe`: users whose membership of a private
 * thread is worth asking Discord about.
 */
export async function placeFacts(channel: GuildBasedChannel, probe: readonly string[] = []): Promise<PlaceFacts | undefined> {
  if (!channel.isThread()) {
    const facts = channelFacts(channel);
    return facts === undefined ? undefined : { kind: 'channel', channel: facts };
  }
  const parent = channel.parent === null ? undefined : channelFacts(channel.parent);
  if (parent === undefined) return undefined;
  if (channel.type !== ChannelType.PrivateThread) return { kind: 'thread', threadId: channel.id, parent, private: false };
  return { kind: 'thread', threadId: channel.id, parent, private: true, membership: await membershipOf(channel, probe) };
}

/** Members named by member overwrites on the channels that govern these places. */
export function membersNamedIn(...channels: GuildBasedChannel[]): string[] {
  const ids = new Set<string>();
  for (const channel of channels) {
    const holder = channel.isThread() ? channel.parent : channel;
    if (holder === null || !('permissionOverwrites' in holder)) continue;
    for (const o of holder.permissionOverwrites.cache.values()) if (o.type === OverwriteType.Member) ids.add(o.id);
  }
  return [...ids];
}

async function membershipOf(thread: ThreadChannel, probe: readonly string[]): Promise<ThreadMembership> {
  const members = new Set<string>();
  const nonMembers = new Set<string>();
  // Gateway THREAD_MEMBERS_UPDATE keeps part of the list cached; what it holds is known.
  for (const id of thread.members.cache.keys()) members.add(id);
  for (const userId of probe.filter((id) => !members.has(id)).slice(0, MAX_MEMBERSHIP_LOOKUPS)) {
    const found = await thread.members.fetch({ member: userId, cache: false }).then(
      () => true as const,
      (error: unknown) => (isUnknownMember(error) ? (false as const) : undefined),
    );
    if (found === true) members.add(userId);
    else if (found === false) nonMembers.add(userId);
  }
  return { members, nonMembers };
}

/** Discord answers 404 "Unknown Member" for a user who is not in the thread; anything else leaves it unknown. */
function isUnknownMember(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404;
}

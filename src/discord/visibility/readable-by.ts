/**
 * Which channels, threads and forum posts of a guild a member can read now:
 * View Channel and Read Message History as discord.js's `permissionsFor`
 * computes them for the member fetched at this moment (roles change), and
 * for a private thread, membership of it (or Manage Threads on its parent).
 *
 * Works on a gateway client (channels and roles kept current by the gateway)
 * and on a REST-only client (`client.rest.setToken`, no login), whose caches
 * hold only what was fetched: there the roles and channels are fetched too.
 * Whatever cannot be established counts as unreadable.
 */
import { ChannelType, PermissionFlagsBits, type Guild, type GuildBasedChannel, type GuildMember, type ThreadChannel } from 'discord.js';

const READ = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory];
/** Private threads whose membership one call may ask Discord about (one request each). */
export const MAX_THREAD_MEMBERSHIP_LOOKUPS = 25;

export interface ReadableOptions {
  /**
   * Threads (archived ones too) to decide besides the active ones the guild
   * lists, e.g. the threads that stored summaries came from. At most
   * MAX_EXTRA_THREADS are fetched; the rest count as unreadable.
   */
  threadIds?: readonly string[];
}

export const MAX_EXTRA_THREADS = 25;

export async function channelsReadableBy(guild: Guild, userId: string, options: ReadableOptions = {}): Promise<Set<string>> {
  const member = await guild.members.fetch({ user: userId, force: true }).catch(() => null);
  const readable = new Set<string>();
  if (member === null) return readable;
  const gateway = guild.client.isReady();
  if (!gateway) await Promise.all([guild.roles.fetch(undefined, { force: true }), guild.channels.fetch(undefined, { force: true })]);

  const threads = new Map<string, ThreadChannel>();
  for (const channel of guild.channels.cache.values()) {
    if (channel.isThread()) threads.set(channel.id, channel);
    else if (channel.type !== ChannelType.GuildCategory && channel.permissionsFor(member).has(READ)) readable.add(channel.id);
  }
  if (!gateway) {
    const active = await guild.channels.fetchActiveThreads().catch(() => null);
    for (const thread of active?.threads.values() ?? []) threads.set(thread.id, thread);
  }
  const extra = [...new Set(options.threadIds ?? [])].filter((id) => !threads.has(id) && !readable.has(id)).slice(0, MAX_EXTRA_THREADS);
  for (const channel of await Promise.all(extra.map((id) => guild.channels.fetch(id).catch(() => null)))) {
    if (channel?.isThread()) threads.set(channel.id, channel);
  }

  let lookups = 0;
  for (const thread of threads.values()) {
    if (thread.parentId === null || !readable.has(thread.parentId)) continue;
    if (thread.type !== ChannelType.PrivateThread) {
      readable.add(thread.id);
      continue;
    }
    if (await inPrivateThread(thread, member, () => ++lookups <= MAX_THREAD_MEMBERSHIP_LOOKUPS)) readable.add(thread.id);
  }
  return readable;
}

/** Whether `member` may read private `thread` (whose parent they can read). */
async function inPrivateThread(thread: ThreadChannel, member: GuildMember, mayAsk: () => boolean): Promise<boolean> {
  const parent: GuildBasedChannel | null = thread.parent;
  if (parent !== null && parent.permissionsFor(member).has(PermissionFlagsBits.ManageThreads)) return true;
  if (thread.ownerId === member.id || thread.members.cache.has(member.id)) return true;
  if (!mayAsk()) return false;
  return thread.members.fetch({ member: member.id, cache: false }).then(
    () => true,
    () => false,
  );
}

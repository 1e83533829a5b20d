/** The emulated Discord world: users, guilds, roles, members, channels and message histories. */
import type { Clock } from '../../../src/resilience/clock.ts';
import {
  Permission,
  channelPermissions,
  basePermissions,
  toPermissionBits,
  type Overwrite,
  type PermissionInput,
  type PermissionName,
  type PermissionSubject,
} from './permissions.ts';
import { compareSnowflakes, shardOfGuild, type SnowflakeFactory } from './snowflake.ts';
import {
  ChannelType,
  THREAD_TYPES,
  type ApiMessage,
  type JsonObject,
  type StoredChannel,
  type StoredGuild,
  type StoredMember,
  type StoredRole,
  type StoredUser,
} from './model.ts';

export const DEFAULT_EVERYONE_PERMISSIONS: readonly PermissionName[] = [
  'ViewChannel',
  'SendMessages',
  'SendMessagesInThreads',
  'CreatePublicThreads',
  'ReadMessageHistory',
  'AddReactions',
  'EmbedLinks',
  'AttachFiles',
  'UseApplicationCommands',
  'UseExternalEmojis',
  'CreateInstantInvite',
  'ChangeNickname',
  'Connect',
  'Speak',
];

export const DEFAULT_BOT_PERMISSIONS: readonly PermissionName[] = [
  'ViewChannel',
  'SendMessages',
  'SendMessagesInThreads',
  'CreatePublicThreads',
  'ReadMessageHistory',
  'EmbedLinks',
  'AttachFiles',
  'AddReactions',
  'UseApplicationCommands',
];

export interface UserSpec {
  id?: string | undefined;
  username: string;
  globalName?: string | null;
  avatar?: string | null;
  bot?: boolean;
}

export interface GuildSpec {
  id?: string;
  name?: string;
  /** Owner user id; by default a new user `<name>-owner` is created and made a member. */
  ownerId?: string;
  locale?: string;
  everyonePermissions?: PermissionInput;
  /** Permissions of the bot's managed role. */
  botPermissions?: PermissionInput;
  /** Pick an id whose events go to this shard (`{ id, count }`); ignored when `id` is given. */
  shard?: { id: number; count: number };
}

export interface RoleSpec {
  id?: string;
  name: string;
  permissions?: PermissionInput;
  position?: number;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
}

export interface MemberOptions {
  roles?: readonly string[];
  /** Convenience: creates a role `<username>-perms` with these permissions and assigns it. */
  permissions?: PermissionInput | undefined;
  nick?: string | null;
  joinedAt?: Date;
}

export interface OverwriteSpec {
  id: string;
  type: 'role' | 'member';
  allow?: PermissionInput;
  deny?: PermissionInput;
}

export type ChannelKind =
  | 'text'
  | 'announcement'
  | 'voice'
  | 'category'
  | 'forum'
  | 'thread'
  | 'private-thread'
  | 'forum-post';

const KIND_TYPES: Record<ChannelKind, number> = {
  text: ChannelType.GuildText,
  announcement: ChannelType.GuildAnnouncement,
  voice: ChannelType.GuildVoice,
  category: ChannelType.GuildCategory,
  forum: ChannelType.GuildForum,
  thread: ChannelType.PublicThread,
  'private-thread': ChannelType.PrivateThread,
  'forum-post': ChannelType.PublicThread,
};

export interface ChannelSpec {
  id?: string | undefined;
  kind: ChannelKind;
  name: string;
  /** Category for guild channels; parent text/forum channel for threads and forum posts. */
  parentId?: string;
  topic?: string;
  position?: number;
  nsfw?: boolean;
  rateLimitPerUser?: number;
  /** Defaults to the category's overwrites (a synced channel), or none. */
  overwrites?: readonly OverwriteSpec[];
  /** Threads: creator (defaults to the bot), who is also its first member. */
  ownerId?: string;
  /** Threads: further members (private threads are visible only to members and thread managers). */
  members?: readonly string[];
  archived?: boolean;
  locked?: boolean;
  /** Forums: tag names. */
  availableTags?: readonly string[];
  /** Forum posts: names of the parent's tags to apply. */
  appliedTags?: readonly string[];
}

export interface StoredAttachmentBytes {
  channelId: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

export class DiscordState {
  readonly users = new Map<string, StoredUser>();
  readonly guilds = new Map<string, StoredGuild>();
  readonly roles = new Map<string, StoredRole>();
  readonly channels = new Map<string, StoredChannel>();
  /** guildId → userId → member */
  readonly members = new Map<string, Map<string, StoredMember>>();
  /** channelId → messages, ascending by id */
  readonly #messages = new Map<string, ApiMessage[]>();
  readonly attachmentBytes = new Map<string, StoredAttachmentBytes>();
  readonly #dmByUser = new Map<string, string>();
  readonly bot: StoredUser;

  constructor(
    readonly ids: SnowflakeFactory,
    readonly clock: Clock,
    bot: UserSpec,
  ) {
    this.bot = this.addUser({ ...bot, bot: true });
  }

  newId(atMs = this.clock.now()): string {
    return this.ids.next(atMs);
  }

  #claimId(id: string | undefined, taken: ReadonlyMap<string, unknown>, atMs = this.clock.now()): string {
    if (id === undefined) return this.newId(atMs);
    if (taken.has(id)) throw new Error(`Id ${id} is already in use`);
    this.ids.reserve(id);
    return id;
  }

  addUser(spec: UserSpec): StoredUser {
    const user: StoredUser = {
      id: this.#claimId(spec.id, this.users),
      username: spec.username,
      globalName: spec.globalName ?? null,
      avatar: spec.avatar ?? null,
      bot: spec.bot ?? false,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(id: string): StoredUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`Unknown user ${id}`);
    return user;
  }

  addGuild(spec: GuildSpec = {}): StoredGuild {
    const now = this.clock.now();
    const id =
      spec.id !== undefined
        ? this.#claimId(spec.id, this.guilds)
        : spec.shard
          ? this.ids.nextForShard(now, spec.shard.id, spec.shard.count)
          : this.newId(now);
    const name = spec.name ?? `guild-${this.guilds.size + 1}`;
    const ownerId = spec.ownerId ?? this.addUser({ username: `${name}-owner` }).id;
    const guild: StoredGuild = { id, name, ownerId, locale: spec.locale ?? 'en-US', botRoleId: '' };
    this.guilds.set(id, guild);
    this.members.set(id, new Map());
    // @everyone shares the guild's id, as on Discord.
    this.roles.set(id, {
      id,
      guildId: id,
      name: '@everyone',
      permissions: toPermissionBits(spec.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS),
      position: 0,
      color: 0,
      hoist: false,
      mentionable: false,
      managed: false,
      botId: null,
    });
    const botRole = this.addRole(id, { name: this.bot.username, permissions: spec.botPermissions ?? DEFAULT_BOT_PERMISSIONS });
    botRole.managed = true;
    botRole.botId = this.bot.id;
    guild.botRoleId = botRole.id;
    this.addMember(id, ownerId);
    this.addMember(id, this.bot.id, { roles: [botRole.id] });
    return guild;
  }

  guild(id: string): StoredGuild {
    const guild = this.guilds.get(id);
    if (!guild) throw new Error(`Unknown guild ${id}`);
    return guild;
  }

  guildsOnShard(shardId: number, shardCount: number): StoredGuild[] {
    return [...this.guilds.values()].filter((g) => shardOfGuild(g.id, shardCount) === shardId);
  }

  addRole(guildId: string, spec: RoleSpec): StoredRole {
    this.guild(guildId);
    const position = spec.position ?? this.rolesOf(guildId).length;
    const role: StoredRole = {
      id: this.#claimId(spec.id, this.roles),
      guildId,
      name: spec.name,
      permissions: toPermissionBits(spec.permissions ?? 0n),
      position,
      color: spec.color ?? 0,
      hoist: spec.hoist ?? false,
      mentionable: spec.mentionable ?? false,
      managed: false,
      botId: null,
    };
    this.roles.set(role.id, role);
    return role;
  }

  rolesOf(guildId: string): StoredRole[] {
    return [...this.roles.values()].filter((r) => r.guildId === guildId).sort((a, b) => a.position - b.position);
  }

  addMember(guildId: string, userId: string, options: MemberOptions = {}): StoredMember {
    this.guild(guildId);
    const user = this.user(userId);
    const roleIds = [...(options.roles ?? [])];
    for (const roleId of roleIds) {
      const role = this.roles.get(roleId);
      if (!role || role.guildId !== guildId) throw new Error(`Role ${roleId} is not in guild ${guildId}`);
    }
    if (options.permissions !== undefined) {
      roleIds.push(this.addRole(guildId, { name: `${user.username}-perms`, permissions: options.permissions }).id);
    }
    const member: StoredMember = {
      guildId,
      userId,
      roleIds,
      nick: options.nick ?? null,
      joinedAt: (options.joinedAt ?? new Date(this.clock.now())).toISOString(),
    };
    this.#guildMembers(guildId).set(userId, member);
    return member;
  }

  member(guildId: string, userId: string): StoredMember | undefined {
    return this.members.get(guildId)?.get(userId);
  }

  membersOf(guildId: string): StoredMember[] {
    return [...this.#guildMembers(guildId).values()];
  }

  #guildMembers(guildId: string): Map<string, StoredMember> {
    const members = this.members.get(guildId);
    if (!members) throw new Error(`Unknown guild ${guildId}`);
    return members;
  }

  addChannel(guildId: string, spec: ChannelSpec): StoredChannel {
    this.guild(guildId);
    const now = this.clock.now();
    const type = KIND_TYPES[spec.kind];
    const isThread = THREAD_TYPES.has(type);
    const parent = spec.parentId === undefined ? undefined : this.channel(spec.parentId);
    if (parent && parent.guildId !== guildId) throw new Error(`Channel ${parent.id} is not in guild ${guildId}`);
    this.#checkParent(spec.kind, parent);
    const overwrites = spec.overwrites
      ? spec.overwrites.map(toOverwrite)
      : !isThread && parent
        ? parent.overwrites.map((o) => ({ ...o }))
        : [];
    const createdAt = new Date(now).toISOString();
    const channel: StoredChannel = {
      id: this.#claimId(spec.id, this.channels, now),
      guildId,
      type,
      name: spec.name,
      parentId: parent?.id ?? null,
      position: spec.position ?? this.channelsOf(guildId).length,
      topic: spec.topic ?? null,
      nsfw: spec.nsfw ?? false,
      rateLimitPerUser: spec.rateLimitPerUser ?? 0,
      overwrites: isThread ? [] : overwrites,
      lastMessageId: null,
      thread: isThread
        ? {
            ownerId: spec.ownerId ?? this.bot.id,
            archived: spec.archived ?? false,
            locked: spec.locked ?? false,
            autoArchiveDuration: 1440,
            archiveTimestamp: createdAt,
            createTimestamp: createdAt,
            messageCount: 0,
            totalMessageSent: 0,
            memberIds: new Set([spec.ownerId ?? this.bot.id, ...(spec.members ?? [])]),
            appliedTags: (spec.appliedTags ?? []).map((name) => tagId(parent, name)),
          }
        : null,
      recipientIds: [],
      availableTags: (spec.availableTags ?? []).map((name) => ({
        id: this.newId(now),
        name,
        moderated: false,
        emoji_id: null,
        emoji_name: null,
      })),
    };
    this.channels.set(channel.id, channel);
    this.#messages.set(channel.id, []);
    return channel;
  }

  #checkParent(kind: ChannelKind, parent: StoredChannel | undefined): void {
    const need: Partial<Record<ChannelKind, readonly number[]>> = {
      thread: [ChannelType.GuildText, ChannelType.GuildAnnouncement],
      'private-thread': [ChannelType.GuildText],
      'forum-post': [ChannelType.GuildForum],
    };
    const allowed = need[kind] ?? [ChannelType.GuildCategory];
    if (kind === 'category' && parent) throw new Error('A category cannot have a parent');
    if (need[kind] && !parent) throw new Error(`A ${kind} needs parentId`);
    if (parent && !allowed.includes(parent.type)) {
      throw new Error(`A ${kind} cannot be under channel ${parent.id} of type ${parent.type}`);
    }
  }

  /** A thread created by the API (from a message or free-standing); the id may be the message's. */
  addThread(parent: StoredChannel, fields: { id?: string; name: string; type: number; ownerId: string; autoArchiveDuration: number }): StoredChannel {
    const kind: ChannelKind =
      parent.type === ChannelType.GuildForum ? 'forum-post' : fields.type === ChannelType.PrivateThread ? 'private-thread' : 'thread';
    if (parent.guildId === null) throw new Error('Threads need a guild channel');
    const thread = this.addChannel(parent.guildId, { id: fields.id, kind, name: fields.name, parentId: parent.id, ownerId: fields.ownerId });
    if (thread.thread) thread.thread.autoArchiveDuration = fields.autoArchiveDuration;
    if (fields.type === ChannelType.AnnouncementThread) thread.type = fields.type;
    return thread;
  }

  channel(id: string): StoredChannel {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`Unknown channel ${id}`);
    return channel;
  }

  channelsOf(guildId: string): StoredChannel[] {
    return [...this.channels.values()].filter((c) => c.guildId === guildId);
  }

  dmChannel(userId: string): StoredChannel {
    const existing = this.#dmByUser.get(userId);
    if (existing) return this.channel(existing);
    this.user(userId);
    const channel: StoredChannel = {
      id: this.newId(),
      guildId: null,
      type: ChannelType.DM,
      name: '',
      parentId: null,
      position: 0,
      topic: null,
      nsfw: false,
      rateLimitPerUser: 0,
      overwrites: [],
      lastMessageId: null,
      thread: null,
      recipientIds: [userId],
      availableTags: [],
    };
    this.channels.set(channel.id, channel);
    this.#messages.set(channel.id, []);
    this.#dmByUser.set(userId, channel.id);
    return channel;
  }

  setOverwrite(channelId: string, spec: OverwriteSpec): StoredChannel {
    const channel = this.channel(channelId);
    if (channel.thread) throw new Error('Threads take their permissions from the parent channel');
    channel.overwrites = channel.overwrites.filter((o) => o.id !== spec.id);
    channel.overwrites.push(toOverwrite(spec));
    return channel;
  }

  /**
   * Channel permissions of a guild member, as Discord computes them: threads use the parent's, and
   * a private thread is invisible (no permissions at all) to those neither in it nor holding Manage
   * Threads on the parent.
   */
  permissionsIn(channelId: string, userId: string): bigint {
    const channel = this.channel(channelId);
    if (channel.guildId === null) return channel.recipientIds.includes(userId) || userId === this.bot.id ? DM_PERMISSIONS : 0n;
    const source = channel.thread && channel.parentId ? this.channel(channel.parentId) : channel;
    const bits = channelPermissions(this.#subject(channel.guildId, userId), source.overwrites);
    if (channel.type === ChannelType.PrivateThread && !channel.thread?.memberIds.has(userId) && (bits & Permission.ManageThreads) === 0n) return 0n;
    return bits;
  }

  addThreadMember(threadId: string, userId: string): StoredChannel {
    const thread = this.channel(threadId);
    if (!thread.thread || thread.guildId === null) throw new Error(`Channel ${threadId} is not a thread`);
    if (!this.member(thread.guildId, userId)) throw new Error(`User ${userId} is not a member of guild ${thread.guildId}`);
    thread.thread.memberIds.add(userId);
    return thread;
  }

  removeThreadMember(threadId: string, userId: string): StoredChannel {
    const thread = this.channel(threadId);
    if (!thread.thread) throw new Error(`Channel ${threadId} is not a thread`);
    thread.thread.memberIds.delete(userId);
    return thread;
  }

  guildPermissions(guildId: string, userId: string): bigint {
    return basePermissions(this.#subject(guildId, userId));
  }

  #subject(guildId: string, userId: string): PermissionSubject {
    const guild = this.guild(guildId);
    const member = this.member(guildId, userId);
    if (!member) throw new Error(`User ${userId} is not a member of guild ${guildId}`);
    return {
      guildId,
      ownerId: guild.ownerId,
      userId,
      roleIds: member.roleIds,
      rolePermissions: (roleId) => this.roles.get(roleId)?.permissions,
    };
  }

  messages(channelId: string): readonly ApiMessage[] {
    return this.#history(channelId);
  }

  message(channelId: string, messageId: string): ApiMessage | undefined {
    return this.#history(channelId).find((m) => m.id === messageId);
  }

  /** Keeps each history sorted by id, so seeded back-dated messages land in place. */
  insertMessage(message: ApiMessage): void {
    const history = this.#history(message.channel_id);
    const last = history[history.length - 1];
    if (!last || compareSnowflakes(last.id, message.id) < 0) {
      history.push(message);
    } else {
      const at = history.findIndex((m) => compareSnowflakes(m.id, message.id) > 0);
      history.splice(at, 0, message);
    }
    const channel = this.channel(message.channel_id);
    const newest = history[history.length - 1];
    channel.lastMessageId = newest ? newest.id : null;
    if (channel.thread) {
      channel.thread.messageCount += 1;
      channel.thread.totalMessageSent += 1;
    }
  }

  removeMessage(channelId: string, messageId: string): ApiMessage | undefined {
    const history = this.#history(channelId);
    const at = history.findIndex((m) => m.id === messageId);
    if (at < 0) return undefined;
    const [removed] = history.splice(at, 1);
    const channel = this.channel(channelId);
    if (channel.thread) channel.thread.messageCount = Math.max(0, channel.thread.messageCount - 1);
    return removed;
  }

  #history(channelId: string): ApiMessage[] {
    const history = this.#messages.get(channelId);
    if (!history) throw new Error(`Unknown channel ${channelId}`);
    return history;
  }
}

/** What Discord grants bots and users in DMs. */
const DM_PERMISSIONS = toPermissionBits([
  'ViewChannel',
  'SendMessages',
  'ReadMessageHistory',
  'EmbedLinks',
  'AttachFiles',
  'AddReactions',
  'UseExternalEmojis',
  'UseApplicationCommands',
]);

function toOverwrite(spec: OverwriteSpec): Overwrite {
  return {
    id: spec.id,
    type: spec.type,
    allow: toPermissionBits(spec.allow ?? 0n),
    deny: toPermissionBits(spec.deny ?? 0n),
  };
}

function tagId(parent: StoredChannel | undefined, name: string): string {
  const tag = parent?.availableTags.find((t: JsonObject) => t['name'] === name);
  if (!tag) throw new Error(`Forum ${parent?.id ?? '?'} has no tag ${JSON.stringify(name)}`);
  return String(tag['id']);
}

/** Renders stored records as the JSON Discord sends over REST and the gateway. */
import { Permission } from './permissions.ts';
import type { DiscordState } from './state.ts';
import { ChannelType, THREAD_TYPES } from './model.ts';
import type { ApiUser, JsonObject, StoredChannel, StoredGuild, StoredMember, StoredRole, StoredUser } from './model.ts';

export function apiUser(user: StoredUser): ApiUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.globalName,
    avatar: user.avatar,
    ...(user.bot ? { bot: true } : {}),
  };
}

export function apiRole(role: StoredRole): JsonObject {
  return {
    id: role.id,
    name: role.name,
    color: role.color,
    hoist: role.hoist,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions.toString(),
    managed: role.managed,
    mentionable: role.mentionable,
    flags: 0,
    ...(role.botId ? { tags: { bot_id: role.botId } } : {}),
  };
}

export function apiMember(state: DiscordState, member: StoredMember, withUser = true): JsonObject {
  return {
    ...(withUser ? { user: apiUser(state.user(member.userId)) } : {}),
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: [...member.roleIds],
    joined_at: member.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

export function apiChannel(state: DiscordState, channel: StoredChannel): JsonObject {
  if (channel.type === ChannelType.DM) {
    return {
      id: channel.id,
      type: channel.type,
      last_message_id: channel.lastMessageId,
      flags: 0,
      recipients: channel.recipientIds.map((id) => apiUser(state.user(id))),
    };
  }
  const common: JsonObject = {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guildId,
    name: channel.name,
    parent_id: channel.parentId,
    flags: 0,
  };
  if (THREAD_TYPES.has(channel.type) && channel.thread) {
    const t = channel.thread;
    return {
      ...common,
      owner_id: t.ownerId,
      last_message_id: channel.lastMessageId,
      rate_limit_per_user: channel.rateLimitPerUser,
      message_count: t.messageCount,
      total_message_sent: t.totalMessageSent,
      // Discord stops counting at 50.
      member_count: Math.min(t.memberIds.size, 50),
      applied_tags: [...t.appliedTags],
      thread_metadata: {
        archived: t.archived,
        auto_archive_duration: t.autoArchiveDuration,
        archive_timestamp: t.archiveTimestamp,
        locked: t.locked,
        create_timestamp: t.createTimestamp,
        ...(channel.type === ChannelType.PrivateThread ? { invitable: true } : {}),
      },
    };
  }
  const guildChannel: JsonObject = {
    ...common,
    position: channel.position,
    permission_overwrites: channel.overwrites.map((o) => ({
      id: o.id,
      type: o.type === 'role' ? 0 : 1,
      allow: o.allow.toString(),
      deny: o.deny.toString(),
    })),
    nsfw: channel.nsfw,
  };
  if (channel.type === ChannelType.GuildCategory) return guildChannel;
  if (channel.type === ChannelType.GuildVoice) return { ...guildChannel, bitrate: 64000, user_limit: 0, rtc_region: null };
  const textual: JsonObject = {
    ...guildChannel,
    topic: channel.topic,
    rate_limit_per_user: channel.rateLimitPerUser,
    last_message_id: channel.lastMessageId,
    default_auto_archive_duration: 1440,
  };
  if (channel.type !== ChannelType.GuildForum) return textual;
  return {
    ...textual,
    available_tags: channel.availableTags.map((t) => ({ ...t })),
    default_reaction_emoji: null,
    default_thread_rate_limit_per_user: 0,
    default_sort_order: null,
    default_forum_layout: 0,
  };
}

/** The guild object of `GET /guilds/:id`. */
export function apiGuild(state: DiscordState, guild: StoredGuild): JsonObject {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    premium_subscription_count: 0,
    premium_progress_bar_enabled: false,
    preferred_locale: guild.locale,
    features: [],
    roles: state.rolesOf(guild.id).map(apiRole),
    emojis: [],
    stickers: [],
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    max_members: 500000,
    max_video_channel_users: 25,
  };
}

/**
 * The GUILD_CREATE payload: active threads travel in `threads`, not `channels`. Without the
 * GUILD_MEMBERS intent Discord sends only the bot's own member.
 */
export function guildCreatePayload(state: DiscordState, guild: StoredGuild, allMembers: boolean): JsonObject {
  const members = state.membersOf(guild.id).filter((m) => allMembers || m.userId === state.bot.id);
  const channels = state.channelsOf(guild.id);
  const botMember = state.member(guild.id, state.bot.id);
  return {
    ...apiGuild(state, guild),
    joined_at: botMember?.joinedAt ?? new Date(state.clock.now()).toISOString(),
    large: false,
    unavailable: false,
    member_count: state.membersOf(guild.id).length,
    members: members.map((m) => apiMember(state, m)),
    channels: channels.filter((c) => !THREAD_TYPES.has(c.type)).map((c) => apiChannel(state, c)),
    // Active threads the bot can view: a private thread it is not in stays hidden.
    threads: channels.filter((c) => c.thread && !c.thread.archived && (state.permissionsIn(c.id, state.bot.id) & Permission.ViewChannel) !== 0n).map((c) => apiChannel(state, c)),
    voice_states: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

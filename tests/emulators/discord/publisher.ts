/** Announces state changes over the gateway with Discord's routing (shard) and intent rules. */
import type { Gateway, GatewaySession } from './gateway.ts';
import { Intent, messageVisibleTo } from './intents.ts';
import { Permission } from './permissions.ts';
import { apiChannel, apiMember, apiRole, guildCreatePayload } from './serialize.ts';
import type { DiscordState } from './state.ts';
import type { ApiMessage, JsonObject, StoredChannel, StoredGuild, StoredMember, StoredRole } from './model.ts';

export class GatewayPublisher {
  constructor(
    private readonly gateway: Gateway,
    private readonly state: DiscordState,
  ) {}

  messageCreated(message: ApiMessage): void {
    this.#message('MESSAGE_CREATE', message);
  }

  messageUpdated(message: ApiMessage): void {
    this.#message('MESSAGE_UPDATE', message);
  }

  messageDeleted(channelId: string, messageId: string): void {
    const channel = this.state.channel(channelId);
    this.gateway.dispatch(
      'MESSAGE_DELETE',
      { id: messageId, channel_id: channelId, ...(channel.guildId ? { guild_id: channel.guildId } : {}) },
      { guildId: channel.guildId, intent: channel.guildId ? Intent.GuildMessages : Intent.DirectMessages },
    );
  }

  /** MESSAGE_DELETE_BULK, as Discord sends it for a moderator's bulk delete (2–100 messages). */
  messagesDeletedBulk(channelId: string, messageIds: readonly string[]): void {
    const channel = this.state.channel(channelId);
    this.gateway.dispatch(
      'MESSAGE_DELETE_BULK',
      { ids: [...messageIds], channel_id: channelId, ...(channel.guildId ? { guild_id: channel.guildId } : {}) },
      { guildId: channel.guildId, intent: channel.guildId ? Intent.GuildMessages : Intent.DirectMessages },
    );
  }

  channelCreated(channel: StoredChannel): void {
    if (channel.guildId === null) return;
    const data = apiChannel(this.state, channel);
    if (channel.thread) {
      // A private thread is announced only to those who can see it.
      if (!this.#botSees(channel)) return;
      this.gateway.dispatch('THREAD_CREATE', { ...data, newly_created: true }, { guildId: channel.guildId, intent: Intent.Guilds });
    } else {
      this.gateway.dispatch('CHANNEL_CREATE', data, { guildId: channel.guildId, intent: Intent.Guilds });
    }
  }

  /**
   * THREAD_MEMBERS_UPDATE: to apps with the GUILD_MEMBERS intent, else only when the bot itself
   * joined or left.
   */
  threadMembersUpdated(thread: StoredChannel, change: { added?: string[]; removed?: string[] }): void {
    if (thread.guildId === null || !thread.thread) return;
    const added = change.added ?? [];
    const removed = change.removed ?? [];
    const data = {
      id: thread.id,
      guild_id: thread.guildId,
      member_count: Math.min(thread.thread.memberIds.size, 50),
      ...(added.length > 0 ? { added_members: added.map((userId) => ({ id: thread.id, user_id: userId, join_timestamp: new Date(this.state.clock.now()).toISOString(), flags: 0 })) } : {}),
      ...(removed.length > 0 ? { removed_member_ids: removed } : {}),
    };
    const aboutBot = added.includes(this.state.bot.id) || removed.includes(this.state.bot.id);
    this.gateway.dispatch('THREAD_MEMBERS_UPDATE', data, { guildId: thread.guildId, intent: aboutBot ? Intent.Guilds : Intent.GuildMembers });
  }

  #botSees(channel: StoredChannel): boolean {
    return (this.state.permissionsIn(channel.id, this.state.bot.id) & Permission.ViewChannel) !== 0n;
  }

  channelUpdated(channel: StoredChannel): void {
    if (channel.guildId === null) return;
    this.gateway.dispatch(channel.thread ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', apiChannel(this.state, channel), {
      guildId: channel.guildId,
      intent: Intent.Guilds,
    });
  }

  guildCreated(guild: StoredGuild): void {
    this.gateway.dispatch(
      'GUILD_CREATE',
      (session: GatewaySession) => guildCreatePayload(this.state, guild, (session.intents & Intent.GuildMembers) !== 0),
      { guildId: guild.id },
    );
  }

  roleCreated(role: StoredRole): void {
    this.gateway.dispatch('GUILD_ROLE_CREATE', { guild_id: role.guildId, role: apiRole(role) }, { guildId: role.guildId, intent: Intent.Guilds });
  }

  memberAdded(member: StoredMember): void {
    this.gateway.dispatch(
      'GUILD_MEMBER_ADD',
      { ...apiMember(this.state, member), guild_id: member.guildId },
      { guildId: member.guildId, intent: Intent.GuildMembers },
    );
  }

  /** Guild messages carry `guild_id` and the author's `member`; content depends on intents. */
  #message(event: string, message: ApiMessage): void {
    const channel = this.state.channel(message.channel_id);
    const guildId = channel.guildId;
    const member = guildId ? this.state.member(guildId, message.author.id) : undefined;
    const extra: JsonObject = guildId ? { guild_id: guildId, ...(member && !message.webhook_id ? { member: apiMember(this.state, member, false) } : {}) } : {};
    this.gateway.dispatch(
      event,
      (session: GatewaySession) => ({ ...messageVisibleTo(session.intents, message, this.state.bot.id, guildId === null), ...extra }),
      { guildId, intent: guildId ? Intent.GuildMessages : Intent.DirectMessages },
    );
  }
}

/** Announces state changes over the gateway with Discord's routing (shard) and intent rules. */
import type { Gateway, GatewaySession } from './gateway.ts';
import { Intent, messageVisibleTo } from './intents.ts';
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

  channelCreated(channel: StoredChannel): void {
    if (channel.guildId === null) return;
    const data = apiChannel(this.state, channel);
    if (channel.thread) {
      this.gateway.dispatch('THREAD_CREATE', { ...data, newly_created: true }, { guildId: channel.guildId, intent: Intent.Guilds });
    } else {
      this.gateway.dispatch('CHANNEL_CREATE', data, { guildId: channel.guildId, intent: Intent.Guilds });
    }
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

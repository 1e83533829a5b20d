/** What the gateway tells a session about the world: READY, its guilds, member chunks. */
import type { GatewaySession, GatewayWorld } from './gateway.ts';
import { Intent } from './intents.ts';
import { apiMember, apiUser, guildCreatePayload } from './serialize.ts';
import type { DiscordState } from './state.ts';
import type { JsonObject, StoredGuild } from './model.ts';

export function gatewayWorld(state: DiscordState, applicationId: string, gatewayUrl: () => string): GatewayWorld {
  const guildsOf = (session: GatewaySession): StoredGuild[] =>
    state.guildsOnShard(session.shard[0], session.shard[1]).filter((g) => state.member(g.id, state.bot.id));

  return {
    readyPayload: (session) => ({
      v: 10,
      user: { ...apiUser(state.bot), verified: true, mfa_enabled: false, flags: 0 },
      guilds: guildsOf(session).map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: gatewayUrl(),
      shard: [...session.shard],
      application: { id: applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      user_settings: {},
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      _trace: ['["discord-emulator",{"micros":0}]'],
    }),
    guildCreates: (session) =>
      guildsOf(session).map((g) => ({ guildId: g.id, data: guildCreatePayload(state, g, (session.intents & Intent.GuildMembers) !== 0) })),
    memberChunks: (session, request) => memberChunks(state, session, request),
  };
}

/** Op 8 answers: by `user_ids`, or by username prefix (everyone needs the GUILD_MEMBERS intent). */
function memberChunks(state: DiscordState, session: GatewaySession, request: JsonObject): JsonObject[] {
  const guildId = typeof request['guild_id'] === 'string' ? request['guild_id'] : '';
  if (!state.guilds.has(guildId)) return [];
  const ids = request['user_ids'];
  const wanted = Array.isArray(ids) ? ids.map(String) : typeof ids === 'string' ? [ids] : undefined;
  const query = typeof request['query'] === 'string' ? request['query'].toLowerCase() : '';
  const limit = typeof request['limit'] === 'number' && request['limit'] > 0 ? request['limit'] : Infinity;
  const all = state.membersOf(guildId);
  const mayList = (session.intents & Intent.GuildMembers) !== 0 || query !== '';
  const members = wanted
    ? all.filter((m) => wanted.includes(m.userId))
    : mayList
      ? all.filter((m) => state.user(m.userId).username.toLowerCase().startsWith(query))
      : [];
  return [
    {
      guild_id: guildId,
      members: members.slice(0, limit).map((m) => apiMember(state, m)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? wanted.filter((id) => !all.some((m) => m.userId === id)) : [],
      ...(request['nonce'] === undefined ? {} : { nonce: request['nonce'] }),
    },
  ];
}

/** Guild routes the bot can read: the guild, its channels, roles, members and active threads. */
import { Failures, invalidFormBody } from '../errors.ts';
import { Permission, hasPermission } from '../permissions.ts';
import type { Route, RouteContext } from '../router.ts';
import { apiChannel, apiGuild, apiMember, apiRole } from '../serialize.ts';
import { compareSnowflakes } from '../snowflake.ts';
import { THREAD_TYPES, type StoredGuild } from '../model.ts';
import { param, snowflakeQuery, type RestDeps } from './context.ts';

export function guildRoutes(deps: RestDeps): Route[] {
  const { state } = deps;

  /** The bot only sees guilds it is in. */
  const guildOf = (ctx: RouteContext): StoredGuild => {
    const guild = state.guilds.get(param(ctx, 'guildId'));
    if (!guild || !state.member(guild.id, state.bot.id)) throw Failures.unknownGuild();
    return guild;
  };

  return [
    {
      method: 'GET',
      pattern: '/guilds/:guildId',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => {
        const guild = guildOf(ctx);
        const counts = ctx.query.get('with_counts') === 'true'
          ? { approximate_member_count: state.membersOf(guild.id).length, approximate_presence_count: 0 }
          : {};
        return { status: 200, body: { ...apiGuild(state, guild), ...counts } };
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/channels',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => {
        const guild = guildOf(ctx);
        const channels = state.channelsOf(guild.id).filter((c) => !THREAD_TYPES.has(c.type));
        return { status: 200, body: channels.map((c) => apiChannel(state, c)) };
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/roles',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => ({ status: 200, body: state.rolesOf(guildOf(ctx).id).map(apiRole) }),
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members/:userId',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => {
        const guild = guildOf(ctx);
        const member = state.member(guild.id, param(ctx, 'userId'));
        if (!member) throw Failures.unknownMember();
        return { status: 200, body: apiMember(state, member) };
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/members',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => {
        const guild = guildOf(ctx);
        const rawLimit = ctx.query.get('limit');
        const limit = rawLimit === null ? 1 : Number(rawLimit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw invalidFormBody([{ path: ['limit'], code: 'NUMBER_TYPE_MAX', message: 'Must be between 1 and 1000.' }]);
        }
        const after = snowflakeQuery(ctx, 'after') ?? '0';
        const members = state
          .membersOf(guild.id)
          .filter((m) => compareSnowflakes(m.userId, after) > 0)
          .sort((a, b) => compareSnowflakes(a.userId, b.userId))
          .slice(0, limit);
        return { status: 200, body: members.map((m) => apiMember(state, m)) };
      },
    },
    {
      method: 'GET',
      pattern: '/guilds/:guildId/threads/active',
      auth: 'bot',
      major: 'guildId',
      handler: (ctx) => {
        const guild = guildOf(ctx);
        const visible = state
          .channelsOf(guild.id)
          .filter((c) => c.thread && !c.thread.archived && hasPermission(state.permissionsIn(c.id, state.bot.id), Permission.ViewChannel));
        return { status: 200, body: { threads: visible.map((c) => apiChannel(state, c)), members: [] } };
      },
    },
  ];
}

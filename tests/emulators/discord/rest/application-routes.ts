/** Gateway discovery, the bot's own user and application, and application commands. */
import { Failures } from '../errors.ts';
import type { Route, RouteContext } from '../router.ts';
import { apiUser } from '../serialize.ts';
import { param, type RestDeps } from './context.ts';

export function applicationRoutes(deps: RestDeps): Route[] {
  const { state, settings, commands } = deps;

  const application = () => ({
    // Discord names the developer who owns the app; the first guild's owner stands in.
    owner: apiUser(state.user([...state.guilds.values()][0]?.ownerId ?? state.bot.id)),
    id: settings.applicationId,
    name: settings.applicationName,
    icon: null,
    description: '',
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: applicationFlags(settings.enabledPrivilegedIntents),
    team: null,
    bot: apiUser(state.bot),
    approximate_guild_count: state.guilds.size,
  });

  /** Commands are addressed by application id; another app's id is a 404 like on Discord. */
  const scope = (ctx: RouteContext): string | null => {
    if (param(ctx, 'applicationId') !== settings.applicationId) throw Failures.notFound();
    const guildId = ctx.params['guildId'];
    if (guildId === undefined) return null;
    if (!state.guilds.has(guildId) || !state.member(guildId, state.bot.id)) throw Failures.missingAccess();
    return guildId;
  };

  const commandRoutes = (prefix: string): Route[] => [
    { method: 'GET', pattern: `${prefix}/commands`, auth: 'bot', handler: (ctx) => ({ status: 200, body: commands.list(scope(ctx)) }) },
    { method: 'PUT', pattern: `${prefix}/commands`, auth: 'bot', handler: (ctx) => ({ status: 200, body: commands.overwrite(scope(ctx), ctx.body) }) },
    {
      method: 'POST',
      pattern: `${prefix}/commands`,
      auth: 'bot',
      handler: (ctx) => {
        const { command, created } = commands.upsert(scope(ctx), ctx.body);
        return { status: created ? 201 : 200, body: command };
      },
    },
    { method: 'GET', pattern: `${prefix}/commands/:commandId`, auth: 'bot', handler: (ctx) => ({ status: 200, body: commands.get(scope(ctx), param(ctx, 'commandId')) }) },
    {
      method: 'DELETE',
      pattern: `${prefix}/commands/:commandId`,
      auth: 'bot',
      handler: (ctx) => {
        commands.remove(scope(ctx), param(ctx, 'commandId'));
        return { status: 204 };
      },
    },
  ];

  return [
    { method: 'GET', pattern: '/gateway', auth: 'none', handler: () => ({ status: 200, body: { url: settings.gatewayUrl() } }) },
    {
      method: 'GET',
      pattern: '/gateway/bot',
      auth: 'bot',
      handler: () => ({
        status: 200,
        body: {
          url: settings.gatewayUrl(),
          shards: settings.recommendedShards,
          session_start_limit: {
            total: settings.sessionStartLimit,
            remaining: settings.sessionStartLimit,
            reset_after: 14_400_000,
            max_concurrency: settings.maxConcurrency,
          },
        },
      }),
    },
    { method: 'GET', pattern: '/users/@me', auth: 'bot', handler: () => ({ status: 200, body: { ...apiUser(state.bot), verified: true, mfa_enabled: false, flags: 0 } }) },
    {
      // The bot's own guilds (discord.js client.guilds.fetch() without an id), paged by `after` and `limit` (max 200).
      method: 'GET',
      pattern: '/users/@me/guilds',
      auth: 'bot',
      handler: (ctx) => {
        const after = ctx.query.get('after');
        const limit = Math.min(200, Math.max(1, Number(ctx.query.get('limit') ?? 200) || 200));
        const guilds = [...state.guilds.values()]
          .filter((g) => state.member(g.id, state.bot.id) !== undefined && (after === null || BigInt(g.id) > BigInt(after)))
          .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
          .slice(0, limit)
          .map((g) => ({ id: g.id, name: g.name, icon: null, banner: null, owner: false, permissions: state.guildPermissions(g.id, state.bot.id).toString(), features: [] }));
        return { status: 200, body: guilds };
      },
    },
    {
      method: 'GET',
      pattern: '/users/:userId',
      auth: 'bot',
      handler: (ctx) => {
        const user = state.users.get(param(ctx, 'userId'));
        if (!user) throw Failures.unknownUser();
        return { status: 200, body: apiUser(user) };
      },
    },
    { method: 'GET', pattern: '/applications/@me', auth: 'bot', handler: () => ({ status: 200, body: application() }) },
    { method: 'GET', pattern: '/oauth2/applications/@me', auth: 'bot', handler: () => ({ status: 200, body: application() }) },
    ...commandRoutes('/applications/:applicationId'),
    ...commandRoutes('/applications/:applicationId/guilds/:guildId'),
  ];
}

/** GATEWAY_*_LIMITED flags: what the developer portal shows as enabled privileged intents. */
function applicationFlags(privileged: number): number {
  let flags = 0;
  if (privileged & (1 << 8)) flags |= 1 << 13; // presences
  if (privileged & (1 << 1)) flags |= 1 << 15; // guild members
  if (privileged & (1 << 15)) flags |= 1 << 19; // message content
  return flags;
}

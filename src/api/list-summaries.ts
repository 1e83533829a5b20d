/**
 * `GET /api/v1/guilds/{guild}/summaries?channel=&limit=&cursor=`: the
 * server's summaries of channels the key's admin can read now, newest
 * first, a page at a time (keyset on created_at and id).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { GuildAccess } from './discord-access.ts';
import { requireOwnGuild } from './guild-param.ts';
import { problem, ProblemError } from './problem.ts';
import { sendJsonBody, type ApiRoute } from './router.ts';
import { ListSummariesQuery } from './schemas.ts';
import { SUMMARY_COLUMNS, summaryJson } from './summary-json.ts';

/** Channels of stored summaries whose readability is decided per request (archived threads among them): a bound on Discord lookups. */
const MAX_SUMMARY_CHANNELS = 200;

export function listSummariesRoute(deps: { db: Kysely<Database>; access: GuildAccess }): ApiRoute {
  return {
    method: 'GET',
    pattern: /^\/api\/v1\/guilds\/([^/]+)\/summaries$/,
    scopes: ['summaries:read'],
    async handle({ res, params, query, key }) {
      const guildId = requireOwnGuild(params[0]!, key);
      const parsed = ListSummariesQuery.safeParse(Object.fromEntries(query));
      if (!parsed.success) {
        const errors = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
        throw new ProblemError(problem(400, 'validation-failed', `Invalid query: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors }));
      }
      const { channel, limit, cursor } = parsed.data;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const channels = channel !== undefined
        ? [channel]
        : (await deps.db.selectFrom('summaries').select('channel_id').distinct().where('guild_id', '=', guildId).limit(MAX_SUMMARY_CHANNELS).execute()).map((r) => r.channel_id);
      const guild = await deps.access.guild(guildId);
      const readable = await deps.access.readableByAdmin(guild, key.createdBy, channels);
      if (channel !== undefined && !readable.has(channel)) {
        throw new ProblemError(problem(403, 'channel-not-readable', 'The admin this key acts as cannot read that channel\'s history now.'));
      }
      const visible = channels.filter((c) => readable.has(c));
      if (visible.length === 0) return sendJsonBody(res, 200, { items: [], nextCursor: null });
      let q = deps.db.selectFrom('summaries').select(SUMMARY_COLUMNS).where('guild_id', '=', guildId).where('channel_id', 'in', visible);
      if (after !== undefined) {
        q = q.where((eb) => eb.or([eb('created_at', '<', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(new Date(last.created_at), last.id) : null;
      sendJsonBody(res, 200, { items: page.map(summaryJson), nextCursor });
    },
  };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = typeof at === 'string' ? new Date(at) : new Date(NaN);
    if (typeof id !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new ProblemError(problem(400, 'invalid-cursor', '`cursor` is not one this API gave out.'));
  }
}

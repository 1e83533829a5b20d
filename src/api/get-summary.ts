/**
 * `GET /api/v1/summaries/{id}`: a summary of the key's server, shown only
 * when the key's admin can read its channel now (otherwise the same 404 as
 * an unknown id: the answer does not tell that it exists).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { GuildAccess } from './discord-access.ts';
import { problem, ProblemError } from './problem.ts';
import { sendJsonBody, type ApiRoute } from './router.ts';
import { SUMMARY_COLUMNS, summaryJson } from './summary-json.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function getSummaryRoute(deps: { db: Kysely<Database>; access: GuildAccess }): ApiRoute {
  return {
    method: 'GET',
    pattern: /^\/api\/v1\/summaries\/([^/]{1,64})$/,
    scopes: ['summaries:read'],
    async handle({ res, params, key }) {
      const notFound = new ProblemError(problem(404, 'summary-not-found', 'No summary with this id that this key can read.'));
      const id = params[0]!;
      if (!UUID.test(id)) throw notFound;
      const row = await deps.db.selectFrom('summaries').select(SUMMARY_COLUMNS).where('id', '=', id).where('guild_id', '=', key.guildId).executeTakeFirst();
      if (row === undefined) throw notFound;
      const guild = await deps.access.guild(key.guildId);
      const readable = await deps.access.readableByAdmin(guild, key.createdBy, [row.channel_id]);
      if (!readable.has(row.channel_id)) throw notFound;
      sendJsonBody(res, 200, summaryJson(row));
    },
  };
}

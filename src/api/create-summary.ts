/** `POST /api/v1/guilds/{guild}/summaries`: checks the request and the admin's access now, queues the summary, answers 202 with the job. */
import type { HttpServer } from '../http/server.ts';
import type { GuildAccess } from './discord-access.ts';
import type { ApiJobs } from './jobs.ts';
import { readJsonBody } from './body.ts';
import { problem, ProblemError } from './problem.ts';
import { sendJsonBody, type ApiRoute } from './router.ts';
import { CreateSummaryRequest } from './schemas.ts';
import { SUMMARY_JOB_KIND, type SummaryJobPayload } from './summary-job.ts';
import { requireOwnGuild } from './guild-param.ts';

export function createSummaryRoute(deps: { jobs: ApiJobs; access: GuildAccess; bodies: HttpServer['bodies'] }): ApiRoute {
  return {
    method: 'POST',
    pattern: /^\/api\/v1\/guilds\/([^/]+)\/summaries$/,
    scopes: ['summaries:create'],
    async handle({ req, res, params, key }) {
      const guildId = requireOwnGuild(params[0]!, key);
      const body = await readJsonBody(req, CreateSummaryRequest, deps.bodies);
      const guild = await deps.access.guild(guildId);
      const readable = await deps.access.readableByAdmin(guild, key.createdBy, [body.channel]);
      if (!readable.has(body.channel)) {
        throw new ProblemError(problem(403, 'channel-not-readable', 'The admin this key acts as cannot read that channel\'s history now (or it does not exist).'));
      }
      const payload: SummaryJobPayload = { ...body, guildId, actorId: key.createdBy, keyId: key.id };
      const job = await deps.jobs.enqueue({ kind: SUMMARY_JOB_KIND, payload, guildId, maxAttempts: 3 });
      const location = `/api/v1/jobs/${job.id}`;
      sendJsonBody(res, 202, { jobId: job.id, state: 'queued', links: { job: location } }, { location });
    },
  };
}

/** `GET /api/v1/jobs/{id}`: a summary job's state, and once done the summary's id (the summary itself is checked for visibility when read). */
import type { ApiJobs } from './jobs.ts';
import { problem, ProblemError } from './problem.ts';
import { sendJsonBody, type ApiRoute } from './router.ts';
import { SUMMARY_JOB_KIND } from './summary-job.ts';

export function getJobRoute(deps: { jobs: ApiJobs }): ApiRoute {
  return {
    method: 'GET',
    pattern: /^\/api\/v1\/jobs\/([A-Za-z0-9_-]{1,64})$/,
    scopes: ['summaries:create', 'summaries:read'],
    async handle({ res, params, key }) {
      const job = await deps.jobs.get(params[0]!).catch(() => undefined);
      if (job === undefined || job.kind !== SUMMARY_JOB_KIND || job.guildId !== key.guildId) {
        throw new ProblemError(problem(404, 'job-not-found', 'No summary job with this id in this key\'s server.'));
      }
      const summaryId = typeof job.result?.['summaryId'] === 'string' ? job.result['summaryId'] : null;
      sendJsonBody(res, 200, {
        jobId: job.id,
        state: job.state,
        attempts: job.attempts,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
        error: job.state === 'failed' || job.state === 'queued' ? job.lastError : null,
        summaryId,
        links: { summary: summaryId === null ? null : `/api/v1/summaries/${summaryId}` },
      });
    },
  };
}

/** `GET /api/v1/jobs/{id}`: a summary job's state, and once done the summary's id (the summary itself is checked for visibility when read). */
import type { ApiJobs } from './jobs.ts';
import { problem, ProblemError } from './problem.ts';
import { sendJsonBody, type ApiRoute } from './router.ts';
import { SUMMARY_JOB_KIND } from './summary-job.ts';

export function getJobRoute(deps: { jobs: ApiJobs }): ApiRoute {
  return {
    method: 'GET',
    pattern: /^\/api\/v1\/jobs\/([0-9a-fA-F-]{36})$/,
    scopes: ['summaries:create', 'summaries:read'],
    async handle({ res, params, key }) {
      const job = await deps.jobs.get(params[0]!).catch(() => undefined);
      if (job === undefined || job.kind !== SUMMARY_JOB_KIND || job.guildId !== key.guildId) {
        throw new ProblemError(problem(404, 'job-not-found', 'No summary job with this id in this key\'s server.'));
      }
      const summaryId = typeof job.result?.['summaryId'] === 'string' ? job.result['summaryId'] : null;
      // The handler ends a request that cannot succeed with its reason instead of having it retried.
      const refused = typeof job.result?.['error'] === 'string' ? job.result['error'] : undefined;
      sendJsonBody(res, 200, {
        jobId: job.id,
        state: refused === undefined ? job.state : 'failed',
        attempts: job.attempts,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
        error: refused ?? (job.state === 'done' ? null : job.lastError),
        summaryId,
        links: { summary: summaryId === null ? null : `/api/v1/summaries/${summaryId}` },
      });
    },
  };
}

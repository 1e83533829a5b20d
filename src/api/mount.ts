/**
 * Mounts `/api/v1` on the app's HTTP server (the `web` and `all` roles):
 * the OpenAPI document, open to all, and the routes behind a key.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { HttpServer } from '../http/server.ts';
import type { Logger } from '../log/logger.ts';
import type { ApiKeyStore } from './api-keys.ts';
import { createSummaryRoute } from './create-summary.ts';
import type { GuildAccess } from './discord-access.ts';
import { getJobRoute } from './get-job.ts';
import { getSummaryRoute } from './get-summary.ts';
import type { ApiJobs } from './jobs.ts';
import { listSummariesRoute } from './list-summaries.ts';
import { openApiDocument } from './openapi.ts';
import { problem, ProblemError } from './problem.ts';
import type { KeyRateLimiter } from './rate-limit.ts';
import { createApiRouter } from './router.ts';

export const API_PREFIX = '/api/v1/';

export interface ApiDeps {
  db: Kysely<Database>;
  keys: ApiKeyStore;
  /** Absent: creating summaries answers 503 (this host runs no job queue). */
  jobs: ApiJobs | undefined;
  /** Absent: every route that needs Discord answers 503 (no DISCORD_TOKEN on this host). */
  access: GuildAccess | undefined;
  limiter: KeyRateLimiter;
  logger: Logger;
  /** PUBLIC_URL, named as the server in the OpenAPI document. */
  publicUrl?: string | undefined;
}

export function mountApi(http: HttpServer, deps: ApiDeps): void {
  const document = JSON.stringify(openApiDocument(deps.publicUrl));
  http.route('GET', `${API_PREFIX}openapi.json`, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(document), 'cache-control': 'public, max-age=300' });
    res.end(document);
  });
  const access = deps.access ?? unavailableAccess('The API needs DISCORD_TOKEN on this host to check who may read what.');
  const jobs = deps.jobs ?? unavailableJobs();
  const router = createApiRouter(
    [
      createSummaryRoute({ jobs, access, bodies: http.bodies }),
      listSummariesRoute({ db: deps.db, access }),
      getSummaryRoute({ db: deps.db, access }),
      getJobRoute({ jobs }),
    ],
    { keys: deps.keys, limiter: deps.limiter, logger: deps.logger },
  );
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) http.routePrefix(method, API_PREFIX, router);
}

function unavailableAccess(detail: string): GuildAccess {
  const refuse = (): never => {
    throw new ProblemError(problem(503, 'discord-not-configured', detail));
  };
  return { guild: async () => refuse(), readableByAdmin: async () => refuse(), botCanRead: async () => refuse(), close: async () => undefined };
}

function unavailableJobs(): ApiJobs {
  const refuse = (): never => {
    throw new ProblemError(problem(503, 'jobs-not-configured', 'This host runs no job queue, so summaries cannot be queued here.'));
  };
  return { enqueue: async () => refuse(), get: async () => undefined };
}

/**
 * Everything the `web` and `all` roles add for integrations, built in one
 * place for the composition root: the API keys store, the REST-only Discord
 * access, `/api/v1`, the Atom feeds, and the `api-summary` job handler on
 * the deployment's job queue.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config/env.ts';
import type { Database } from '../db/schema.ts';
import { FeedStore } from '../feeds/feed-store.ts';
import { mountFeeds } from '../feeds/feed-route.ts';
import type { HttpServer } from '../http/server.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Summarizer } from '../summaries/summarize.ts';
import { ApiKeyStore } from './api-keys.ts';
import { createRestGuildAccess } from './discord-access.ts';
import { mountApi } from './mount.ts';
import { createTokenBucketLimiter } from './rate-limit.ts';
import { createSummaryJobHandler, SUMMARY_JOB_KIND } from './summary-job.ts';

/** Fetches of one feed per minute: readers poll; more is a loop or abuse. */
const FEED_FETCHES_PER_MINUTE = 30;

export interface ApiSurfaceDeps {
  config: Pick<Config, 'discord' | 'http' | 'api'>;
  db: Kysely<Database>;
  summarizer: Summarizer;
  /** Register before the queue starts; this surface only adds its handler. */
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
}

export function mountApiSurface(http: HttpServer, deps: ApiSurfaceDeps): { keys: ApiKeyStore; feeds: FeedStore; close(): Promise<void> } {
  const now = () => deps.clock.now();
  const keys = new ApiKeyStore(deps.db, now);
  const feeds = new FeedStore(deps.db, now);
  const token = deps.config.discord.token;
  const access = token === undefined ? undefined : createRestGuildAccess({ token, apiUrl: deps.config.discord.apiUrl, cacheMs: deps.config.api.permissionCacheMs });
  const publicUrl = deps.config.http.publicUrl?.href.replace(/\/+$/, '');
  const rate = deps.config.api.ratePerMinute;
  mountApi(http, {
    db: deps.db,
    keys,
    jobs: access === undefined ? undefined : deps.jobs,
    access,
    limiter: createTokenBucketLimiter({ burst: rate, perMinute: rate, now }),
    logger: deps.logger,
    publicUrl,
  });
  mountFeeds(http, {
    feeds,
    db: deps.db,
    access,
    limiter: createTokenBucketLimiter({ burst: FEED_FETCHES_PER_MINUTE, perMinute: FEED_FETCHES_PER_MINUTE, now }),
    logger: deps.logger,
    publicUrl,
  });
  if (access !== undefined) {
    deps.jobs.handle(SUMMARY_JOB_KIND, createSummaryJobHandler({ access, summarizer: deps.summarizer, db: deps.db, clock: deps.clock, logger: deps.logger }));
  }
  return { keys, feeds, close: async () => access?.close() };
}

/**
 * `GET /feeds/<token>.atom`: a channel's summaries, or a digest's posted
 * runs (`digest-feed.ts`), as Atom. The token is
 * the only credential. Who may read is checked again at every fetch:
 * a feed not confirmed private is served only while @everyone can read the
 * channel; a confirmed one only while the admin who made it can.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { HttpServer } from '../http/server.ts';
import type { Logger } from '../log/logger.ts';
import type { GuildAccess } from '../api/discord-access.ts';
import { problem, ProblemError, sendProblem as sendApiProblem, type Problem } from '../api/problem.ts';
import type { KeyRateLimiter } from '../api/rate-limit.ts';
import { atomDocument, type AtomEntry } from './atom.ts';
import { digestFeedBody } from './digest-feed.ts';
import { everyoneCanRead } from './everyone-can-read.ts';
import { withCitationLinks, type FeedBody } from './feed-body.ts';
import type { FeedInfo, FeedStore } from './feed-store.ts';

export const FEEDS_PREFIX = '/feeds/';
const ENTRIES = 50;

export interface FeedRouteDeps {
  feeds: Pick<FeedStore, 'open'>;
  db: Kysely<Database>;
  /** Absent: feeds answer 503 (no DISCORD_TOKEN on this host to check who may read). */
  access: GuildAccess | undefined;
  limiter: KeyRateLimiter;
  logger: Logger;
  publicUrl?: string | undefined;
}

export function mountFeeds(http: HttpServer, deps: FeedRouteDeps): void {
  // Failures are caught here, not by the server, whose log line names the path: here the path holds the token.
  http.routePrefix('GET', FEEDS_PREFIX, (req, res) =>
    serveFeed(req, res, deps).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'feed request failed');
      if (!res.headersSent) sendApiProblem(req, res, { ...problem(500, 'internal', 'Something went wrong on our side.'), instance: '/feeds/{token}.atom' }, {}, true);
      else res.destroy();
    }),
  );
}

async function serveFeed(req: IncomingMessage, res: ServerResponse, deps: FeedRouteDeps): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  // The path is the feed's credential: problems name it without the token.
  const sendProblem = (r: IncomingMessage, s: ServerResponse, p: Problem, headers: Record<string, string> = {}, bodyUnread = false) =>
    sendApiProblem(r, s, { ...p, instance: '/feeds/{token}.atom' }, headers, bodyUnread);
  const token = /^\/feeds\/([A-Za-z0-9_-]{1,64})\.atom$/.exec(path)?.[1];
  const notFound = problem(404, 'feed-not-found', 'No such feed (it may have been revoked).');
  // The token is never logged: it is the feed's only credential.
  const feed = token === undefined ? undefined : await deps.feeds.open(token);
  if (feed === undefined) return sendProblem(req, res, notFound, {}, true);
  const limited = deps.limiter.take(feed.id);
  if (!limited.allowed) return sendProblem(req, res, problem(429, 'rate-limited', 'This feed is fetched too often.'), { 'retry-after': String(limited.retryAfterSeconds) });
  try {
    const body = feed.kind === 'digest' ? await digestFeedBody(feed, deps, ENTRIES) : await channelFeedBody(feed, deps);
    const self = deps.publicUrl === undefined ? undefined : `${deps.publicUrl.replace(/\/+$/, '')}${path}`;
    const xml = atomDocument({
      id: `urn:uuid:${feed.id}`,
      title: feed.title,
      updated: body.entries[0]?.updated ?? feed.createdAt,
      ...(self === undefined ? {} : { selfUrl: self }),
      alternateUrl: body.alternateUrl,
      entries: body.entries,
    });
    res.writeHead(200, {
      'content-type': 'application/atom+xml; charset=utf-8',
      'content-length': Buffer.byteLength(xml),
      'cache-control': 'private, max-age=60',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(xml);
  } catch (error) {
    if (error instanceof ProblemError) return sendProblem(req, res, error.problem, error.headers);
    deps.logger.error({ err: error, feedId: feed.id }, 'feed failed');
    sendProblem(req, res, problem(500, 'internal', 'Something went wrong on our side.'));
  }
}

async function channelFeedBody(feed: FeedInfo, deps: FeedRouteDeps): Promise<FeedBody> {
  await requireReadableNow(feed, deps);
  const rows = await deps.db
    .selectFrom('summaries')
    .select(['id', 'channel_id', 'created_at', 'options', 'text', 'citations'])
    .where('guild_id', '=', feed.guildId)
    .where('channel_id', '=', feed.targetId)
    .orderBy('created_at', 'desc')
    .limit(ENTRIES)
    .execute();
  const channelUrl = `https://discord.com/channels/${feed.guildId}/${feed.targetId}`;
  const entries: AtomEntry[] = rows.map((row) => {
    const options = row.options as { type?: string };
    const at = new Date(row.created_at);
    return {
      id: `urn:uuid:${row.id}`,
      title: `${options.type ?? 'brief'} summary, ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      updated: at,
      content: withCitationLinks(row.text, row.citations),
      link: channelUrl,
    };
  });
  return { entries, alternateUrl: channelUrl };
}

async function requireReadableNow(feed: FeedInfo, deps: FeedRouteDeps): Promise<void> {
  if (deps.access === undefined) throw new ProblemError(problem(503, 'discord-not-configured', 'Feeds need DISCORD_TOKEN on this host to check who may read them.'));
  const guild = await deps.access.guild(feed.guildId);
  if (feed.confirmedPrivate) {
    const readable = await deps.access.readableByAdmin(guild, feed.createdBy, [feed.targetId]);
    if (!readable.has(feed.targetId)) throw new ProblemError(problem(403, 'feed-not-readable', 'The admin who made this feed can no longer read its channel.'));
    return;
  }
  if (!(await everyoneCanRead(guild, feed.targetId))) {
    throw new ProblemError(problem(403, 'feed-not-public', 'Everyone can no longer read this feed\'s channel, so it is not served; an admin may make it again, confirming it as private.'));
  }
}

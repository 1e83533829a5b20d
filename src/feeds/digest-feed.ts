/**
 * The Atom entries of a digest's feed: one per posted run (when, window,
 * message count, outcome, link to the posted message) with the text of the
 * summaries it posted. Who may read is decided at every fetch, as for a
 * channel feed: @everyone (or, for a feed confirmed private, the admin who
 * made it) must be able to read the digest's source and destination now,
 * and a summary's text is shown only when its own channel passes the same
 * test (a category's channels differ). A paused digest's feed keeps
 * serving its past runs while that holds; a deleted digest's runs are
 * gone with it, so its feed answers 410 until an admin revokes it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { GuildAccess } from '../api/discord-access.ts';
import { problem, ProblemError } from '../api/problem.ts';
import { digestById } from '../digests/digest-store.ts';
import type { AtomEntry } from './atom.ts';
import { postedDigestRuns, type PostedRun } from './digest-runs.ts';
import { everyoneCanReadEach } from './everyone-can-read.ts';
import { withCitationLinks, type FeedBody } from './feed-body.ts';
import type { FeedInfo } from './feed-store.ts';

/** Summary channels one fetch checks against Discord (a category digest's runs span several); the rest are withheld. */
export const MAX_SUMMARY_CHANNELS = 25;

export interface DigestFeedDeps {
  db: Kysely<Database>;
  access: GuildAccess | undefined;
}

const minute = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ');

export async function digestFeedBody(feed: FeedInfo, deps: DigestFeedDeps, limit: number): Promise<FeedBody> {
  if (deps.access === undefined) throw new ProblemError(problem(503, 'discord-not-configured', 'Feeds need DISCORD_TOKEN on this host to check who may read them.'));
  const digest = await digestById(deps.db, feed.targetId);
  if (digest === undefined || digest.guild_id !== feed.guildId) {
    throw new ProblemError(problem(410, 'digest-deleted', "This feed's digest was deleted, and its runs with it; an admin may revoke the feed."));
  }
  const guild = await deps.access.guild(feed.guildId);
  const runs = await postedDigestRuns(deps.db, feed.guildId, digest.id, limit);
  const summaryChannels = [...new Set(runs.flatMap((run) => run.summaries.map((s) => s.channelId)))].slice(0, MAX_SUMMARY_CHANNELS);
  let readable: Set<string>;
  if (feed.confirmedPrivate) {
    readable = await deps.access.readableByAdmin(guild, feed.createdBy, summaryChannels);
    // A member's readable set holds no categories: a category's channels are checked one by one below.
    const required = [digest.destination_id, ...(digest.source_kind === 'channel' ? [digest.source_id] : [])];
    if (!required.every((id) => readable.has(id))) {
      throw new ProblemError(problem(403, 'feed-not-readable', "The admin who made this feed can no longer read its digest's source or destination channel."));
    }
  } else {
    readable = await everyoneCanReadEach(guild, [digest.source_id, digest.destination_id, ...summaryChannels]);
    if (!readable.has(digest.source_id) || !readable.has(digest.destination_id)) {
      throw new ProblemError(
        problem(403, 'feed-not-public', "Everyone can no longer read this digest's source or destination channel, so its feed is not served; an admin may make it again, confirming it as private."),
      );
    }
  }
  const destinationUrl = `https://discord.com/channels/${feed.guildId}/${digest.destination_id}`;
  const channelName = (id: string): string => {
    const name = guild.channels.cache.get(id)?.name;
    return name === undefined ? `channel ${id}` : `#${name}`;
  };
  const entries = runs.map((run) => runEntry(run, { readable: (id) => readable.has(id), channelName, destinationUrl }));
  return { entries, alternateUrl: destinationUrl };
}

function runEntry(run: PostedRun, view: { readable: (channelId: string) => boolean; channelName: (channelId: string) => string; destinationUrl: string }): AtomEntry {
  const count = run.messageCount === null ? 'unknown number of' : run.messageCount.toLocaleString('en-US');
  const plural = run.messageCount === 1 ? 'message' : 'messages';
  const head = [
    `Window: ${minute(run.windowStart)} – ${minute(run.windowEnd)} UTC`,
    `Messages: ${count}`,
    `Outcome: ${run.outcome}`,
    ...(run.messageUrl === null ? [] : [`Posted: ${run.messageUrl}`]),
  ].join('\n');
  const parts = run.summaries.map((s) =>
    view.readable(s.channelId) ? `${view.channelName(s.channelId)}\n\n${withCitationLinks(s.text, s.citations)}` : '(A summary of a channel this feed may not show is withheld.)',
  );
  const body = parts.length === 0 ? '(The summary text is no longer kept.)' : parts.join('\n\n---\n\n');
  return {
    id: `urn:uuid:${run.id}`,
    title: `Digest, ${minute(run.windowEnd)} UTC · ${count} ${plural}`,
    updated: run.postedAt,
    content: `${head}\n\n${body}`,
    link: run.messageUrl ?? view.destinationUrl,
  };
}

/**
 * A digest's posted runs, newest first, with the summaries each posted:
 * found through `summary_posts` by the run's first posted message (the
 * digest delivery records every summary it posts against all the run's
 * messages, first message at part 0). A summary pruned by retention, or
 * forgotten because its message was deleted, is simply not found.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface PostedRunSummary {
  id: string;
  /** The channel it summarizes (one of the digest's sources). */
  channelId: string;
  text: string;
  /** As stored: the summary's citations (JSON). */
  citations: unknown;
}

export interface PostedRun {
  id: string;
  dueAt: Date;
  windowStart: Date;
  windowEnd: Date;
  postedAt: Date;
  messageCount: number | null;
  outcome: string;
  messageUrl: string | null;
  summaries: PostedRunSummary[];
}

const MESSAGE_URL = /^https:\/\/(?:(?:canary|ptb)\.)?discord(?:app)?\.com\/channels\/(\d{1,20})\/(\d{1,20})\/(\d{1,20})$/;

/** Where a run's message URL points, when it is a Discord message link of this guild. */
export function postedMessageOf(guildId: string, url: string | null): { channelId: string; messageId: string } | undefined {
  const match = url === null ? null : MESSAGE_URL.exec(url);
  if (match === null || match[1] !== guildId) return undefined;
  return { channelId: match[2]!, messageId: match[3]! };
}

export async function postedDigestRuns(db: Kysely<Database>, guildId: string, digestId: string, limit: number): Promise<PostedRun[]> {
  const runs = await db
    .selectFrom('digest_runs')
    .select(['id', 'due_at', 'window_start', 'window_end', 'finished_at', 'started_at', 'message_count', 'outcome', 'message_url'])
    .where('guild_id', '=', guildId)
    .where('digest_id', '=', digestId)
    .where('outcome', '=', 'posted')
    .orderBy('due_at', 'desc')
    .limit(limit)
    .execute();
  const posted = runs.map((run) => postedMessageOf(guildId, run.message_url));
  const messageIds = [...new Set(posted.flatMap((p) => (p === undefined ? [] : [p.messageId])))];
  const byMessage = new Map<string, Array<PostedRunSummary & { postChannelId: string }>>();
  if (messageIds.length > 0) {
    const rows = await db
      .selectFrom('summary_posts')
      .innerJoin('summaries', 'summaries.id', 'summary_posts.summary_id')
      .select(['summary_posts.message_id', 'summary_posts.channel_id as post_channel_id', 'summaries.id', 'summaries.channel_id', 'summaries.text', 'summaries.citations'])
      .where('summary_posts.guild_id', '=', guildId)
      .where('summaries.guild_id', '=', guildId)
      .where('summary_posts.message_id', 'in', messageIds)
      .where('summary_posts.part', '=', 0)
      // The order the delivery summarized the sources in.
      .orderBy('summaries.created_at')
      .orderBy('summaries.id')
      .execute();
    for (const row of rows) {
      const list = byMessage.get(row.message_id) ?? [];
      list.push({
        id: row.id,
        channelId: row.channel_id,
        text: row.text,
        citations: row.citations,
        postChannelId: row.post_channel_id,
      });
      byMessage.set(row.message_id, list);
    }
  }
  return runs.map((run, index) => {
    const post = posted[index];
    const summaries = post === undefined ? [] : (byMessage.get(post.messageId) ?? []).filter((s) => s.postChannelId === post.channelId);
    return {
      id: run.id,
      dueAt: new Date(run.due_at),
      windowStart: new Date(run.window_start),
      windowEnd: new Date(run.window_end),
      postedAt: new Date(run.finished_at ?? run.started_at),
      messageCount: run.message_count,
      outcome: run.outcome,
      messageUrl: post === undefined ? null : run.message_url,
      summaries: summaries.map(({ postChannelId: _, ...summary }) => summary),
    };
  });
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export interface HistoryEntry {
  id: string;
  channelId: string;
  createdAt: Date;
  type: string;
  messageCount: number;
  text: string;
  citations: Array<{ ref: number; messageId: string; jumpUrl?: string }>;
  model: string;
}

export interface HistoryFilter {
  /** Only these channels: the ones the viewer can read now. Empty: nothing. */
  readable: ReadonlySet<string>;
  channelId?: string | undefined;
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
  limit: number;
}

/** A guild's stored summaries, newest first, of the channels the viewer can read now. */
export async function summaryHistory(db: Kysely<Database>, guildId: string, filter: HistoryFilter): Promise<HistoryEntry[]> {
  const channels = filter.channelId === undefined ? [...filter.readable] : filter.readable.has(filter.channelId) ? [filter.channelId] : [];
  if (channels.length === 0) return [];
  let query = db
    .selectFrom('summaries')
    .select(['id', 'channel_id', 'created_at', 'options', 'message_count', 'text', 'citations', 'model'])
    .where('guild_id', '=', guildId)
    .where('channel_id', 'in', channels);
  if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
  const rows = await query.orderBy('created_at', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    createdAt: r.created_at,
    type: r.options.type,
    messageCount: r.message_count,
    text: r.text,
    citations: r.citations,
    model: r.model,
  }));
}

/** The overview's glance: summaries since `since` and the newest one's time (both by the guild/time index). */
export async function recentSummaries(db: Kysely<Database>, guildId: string, since: Date): Promise<{ recent: number; last: Date | null }> {
  const [count, last] = await Promise.all([
    db.selectFrom('summaries').select((eb) => eb.fn.countAll<string>().as('n')).where('guild_id', '=', guildId).where('created_at', '>=', since).executeTakeFirstOrThrow(),
    db.selectFrom('summaries').select('created_at').where('guild_id', '=', guildId).orderBy('created_at', 'desc').limit(1).executeTakeFirst(),
  ]);
  return { recent: Number(count.n), last: last?.created_at ?? null };
}

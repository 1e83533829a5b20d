/**
 * Summary history: where each summary was posted, reading summaries back for
 * a guild (filtered to the channels the caller may read), forgetting the
 * ones whose message was deleted in Discord, and the retention prune, which
 * also covers the map-reduce partials in `summary_chunks`.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { CitationLink, PromptReport, SummaryRequestOptions } from './types.ts';

export const DEFAULT_RETENTION_DAYS = 90;
/** Rows one prune statement deletes, so a large backlog never holds locks for long. */
const PRUNE_BATCH = 5_000;
/** Message ids per delete statement (a bulk delete holds at most 100). */
const FORGET_BATCH = 500;

export interface SummaryPost {
  channelId: string;
  messageId: string;
  postedAt: Date;
}

export interface HistoryEntry {
  id: string;
  guildId: string;
  channelId: string;
  createdAt: Date;
  createdBy: string | null;
  options: SummaryRequestOptions;
  prompt: PromptReport;
  provider: string;
  model: string;
  messageCount: number;
  chunks: number;
  costUsd: number;
  /** The newest public post of it (its first message), or null when it was only shown privately. */
  post: SummaryPost | null;
}

export interface HistorySummary extends HistoryEntry {
  text: string;
  citations: CitationLink[];
  warnings: string[];
}

export interface HistoryQuery {
  guildId: string;
  /** Only summaries of these channels (the ones the caller may read now); empty: none. */
  channelIds: readonly string[];
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  offset: number;
}

/** Records the public messages a summary was posted as (first message first). */
export async function recordSummaryPost(db: Kysely<Database>, post: { summaryId: string; guildId: string; channelId: string; messageIds: readonly string[] }): Promise<void> {
  if (post.messageIds.length === 0) return;
  await db
    .insertInto('summary_posts')
    .values(post.messageIds.map((messageId, part) => ({ message_id: messageId, summary_id: post.summaryId, guild_id: post.guildId, channel_id: post.channelId, part })))
    .onConflict((oc) => oc.columns(['message_id', 'summary_id']).doNothing())
    .execute();
}

/** A page of a guild's summaries, newest first, with how many match in all. */
export async function listSummaries(db: Kysely<Database>, query: HistoryQuery): Promise<{ entries: HistoryEntry[]; total: number }> {
  if (query.channelIds.length === 0) return { entries: [], total: 0 };
  let base = db.selectFrom('summaries').where('guild_id', '=', query.guildId).where('channel_id', 'in', [...query.channelIds]);
  if (query.from !== undefined) base = base.where('created_at', '>=', query.from);
  if (query.to !== undefined) base = base.where('created_at', '<', query.to);
  const [counted, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    base.select(ENTRY_COLUMNS).orderBy('created_at', 'desc').orderBy('id').limit(query.limit).offset(query.offset).execute(),
  ]);
  const posts = await latestPosts(db, rows.map((r) => r.id));
  return { entries: rows.map((row) => toEntry(row, posts.get(row.id) ?? null)), total: Number(counted.n) };
}

/**
 * One summary of a guild by id, or by the first 8+ characters of it as the
 * list shows them. 'ambiguous' when a prefix matches more than one.
 */
export async function findGuildSummary(db: Kysely<Database>, guildId: string, idOrPrefix: string): Promise<HistorySummary | 'ambiguous' | undefined> {
  const key = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{8,36}$/.test(key)) return undefined;
  const rows = await db
    .selectFrom('summaries')
    .select([...ENTRY_COLUMNS, 'text', 'citations', 'warnings'])
    .where('guild_id', '=', guildId)
    .where(key.length === 36 ? sql<boolean>`id = ${key}` : sql<boolean>`id like ${`${key}%`}`)
    .limit(2)
    .execute();
  if (rows.length > 1) return 'ambiguous';
  const row = rows[0];
  if (row === undefined) return undefined;
  const posts = await latestPosts(db, [row.id]);
  return {
    ...toEntry(row, posts.get(row.id) ?? null),
    text: row.text,
    citations: Array.isArray(row.citations) ? row.citations : [],
    warnings: Array.isArray(row.warnings) ? row.warnings.map(String) : [],
  };
}

/** The channels a guild's newest summaries are of (threads among them may need looking up). */
export async function summarizedChannels(db: Kysely<Database>, guildId: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('summaries')
    .select('channel_id')
    .where('guild_id', '=', guildId)
    .groupBy('channel_id')
    .orderBy(sql`max(created_at)`, 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.channel_id);
}

/**
 * Messages deleted in Discord: the summaries posted as any of them leave
 * history (their other posts with them). Returns how many summaries went.
 */
export async function forgetDeletedSummaries(db: Kysely<Database>, messageIds: readonly string[]): Promise<number> {
  let forgotten = 0;
  for (let i = 0; i < messageIds.length; i += FORGET_BATCH) {
    const batch = messageIds.slice(i, i + FORGET_BATCH);
    const deleted = await db
      .deleteFrom('summaries')
      .where('id', 'in', (eb) => eb.selectFrom('summary_posts').select('summary_id').where('message_id', 'in', batch))
      .executeTakeFirst();
    forgotten += Number(deleted.numDeletedRows);
  }
  return forgotten;
}

/**
 * Deletes summaries (and their posts) and map-reduce partials older than
 * `retentionDays` before `now`, in bounded batches.
 */
export async function pruneSummaryHistory(db: Kysely<Database>, now: Date, retentionDays: number): Promise<{ summaries: number; chunks: number }> {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) throw new RangeError(`retentionDays must be a positive number, got ${retentionDays}`);
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  let summaries = 0;
  for (;;) {
    const deleted = await db
      .deleteFrom('summaries')
      .where('id', 'in', (eb) => eb.selectFrom('summaries').select('id').where('created_at', '<', cutoff).limit(PRUNE_BATCH))
      .executeTakeFirst();
    const n = Number(deleted.numDeletedRows);
    summaries += n;
    if (n < PRUNE_BATCH) break;
  }
  let chunks = 0;
  for (;;) {
    const deleted = await db
      .deleteFrom('summary_chunks')
      .where('chunk_key', 'in', (eb) => eb.selectFrom('summary_chunks').select('chunk_key').where('created_at', '<', cutoff).limit(PRUNE_BATCH))
      .executeTakeFirst();
    const n = Number(deleted.numDeletedRows);
    chunks += n;
    if (n < PRUNE_BATCH) break;
  }
  return { summaries, chunks };
}

/** The Discord link to a posted message. */
export function postLink(guildId: string, post: Pick<SummaryPost, 'channelId' | 'messageId'>): string {
  return `https://discord.com/channels/${guildId}/${post.channelId}/${post.messageId}`;
}

const ENTRY_COLUMNS = [
  'id',
  'guild_id',
  'channel_id',
  'created_at',
  'created_by',
  'options',
  'prompt',
  'provider',
  'model',
  'message_count',
  'chunks',
  'cost_usd',
] as const;

interface EntryRow {
  id: string;
  guild_id: string | null;
  channel_id: string;
  created_at: Date | string;
  created_by: string | null;
  options: SummaryRequestOptions;
  prompt: PromptReport;
  provider: string;
  model: string;
  message_count: number;
  chunks: number;
  cost_usd: string | number;
}

function toEntry(row: EntryRow, post: SummaryPost | null): HistoryEntry {
  return {
    id: row.id,
    guildId: row.guild_id ?? '',
    channelId: row.channel_id,
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
    options: row.options,
    prompt: row.prompt,
    provider: row.provider,
    model: row.model,
    messageCount: row.message_count,
    chunks: row.chunks,
    costUsd: Number(row.cost_usd),
    post,
  };
}

/** Each summary's newest post, by its first message. */
async function latestPosts(db: Kysely<Database>, summaryIds: readonly string[]): Promise<Map<string, SummaryPost>> {
  const found = new Map<string, SummaryPost>();
  if (summaryIds.length === 0) return found;
  const rows = await db
    .selectFrom('summary_posts')
    .select(['summary_id', 'channel_id', 'message_id', 'posted_at'])
    .where('summary_id', 'in', [...summaryIds])
    .where('part', '=', 0)
    .orderBy('posted_at', 'desc')
    .execute();
  for (const row of rows) if (!found.has(row.summary_id)) found.set(row.summary_id, { channelId: row.channel_id, messageId: row.message_id, postedAt: new Date(row.posted_at) });
  return found;
}

/**
 * Admin notices in the database: each guild's notices channel, and one row
 * per guild and cause that decides, atomically, whether a notice opens a new
 * hour (and is posted) or repeats within the current one (and is counted).
 * Two processes recording the same cause at once serialize on the row: one
 * of them opens the window, the other counts.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AdminNotice, NoticeKind } from './admin-notice.ts';

export const NOTICE_WINDOW_MS = 3_600_000;

export interface Recorded {
  /** This occurrence opened a new window: post it. */
  post: boolean;
  /** Occurrences in the current window, this one included. */
  repeats: number;
  /** Occurrences in the window before, shown when a new one is posted. */
  previousRepeats: number;
  windowStartedAt: Date;
}

export interface StoredNotice {
  guildId: string;
  cause: string;
  kind: NoticeKind;
  title: string;
  lines: string[];
  link: string | null;
  repeats: number;
  total: number;
  lastAt: Date;
  windowStartedAt: Date;
  deliveredChannelId: string | null;
  deliveryError: string | null;
}

export async function recordNotice(db: Kysely<Database>, notice: AdminNotice, now: Date): Promise<Recorded> {
  const windowStart = new Date(now.getTime() - NOTICE_WINDOW_MS);
  // In the SET list `admin_notices.*` are the values before this update.
  const inWindow = sql<boolean>`admin_notices.window_started_at > ${windowStart}`;
  const row = await db
    .insertInto('admin_notices')
    .values({
      guild_id: notice.guildId,
      cause: notice.cause,
      kind: notice.kind,
      title: notice.title,
      lines: JSON.stringify(notice.lines),
      link: notice.link ?? null,
      window_started_at: now,
      repeats: 1,
      previous_repeats: 0,
      total: 1,
      last_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['guild_id', 'cause']).doUpdateSet({
        kind: (eb) => eb.ref('excluded.kind'),
        title: (eb) => eb.ref('excluded.title'),
        lines: (eb) => eb.ref('excluded.lines'),
        link: (eb) => eb.ref('excluded.link'),
        last_at: (eb) => eb.ref('excluded.last_at'),
        total: sql`admin_notices.total + 1`,
        repeats: sql`case when ${inWindow} then admin_notices.repeats + 1 else 1 end`,
        previous_repeats: sql`case when ${inWindow} then admin_notices.previous_repeats else admin_notices.repeats end`,
        window_started_at: sql`case when ${inWindow} then admin_notices.window_started_at else excluded.window_started_at end`,
        delivered_channel_id: sql`case when ${inWindow} then admin_notices.delivered_channel_id else null end`,
        delivered_message_id: sql`case when ${inWindow} then admin_notices.delivered_message_id else null end`,
        delivery_error: sql`case when ${inWindow} then admin_notices.delivery_error else null end`,
      }),
    )
    .returning(['repeats', 'previous_repeats', 'window_started_at'])
    .executeTakeFirstOrThrow();
  return { post: row.repeats === 1, repeats: row.repeats, previousRepeats: row.previous_repeats, windowStartedAt: new Date(row.window_started_at) };
}

/** The posted notice of the window that started at `windowStartedAt` (a later window is left alone). */
export async function markDelivered(db: Kysely<Database>, guildId: string, cause: string, windowStartedAt: Date, delivered: { channelId: string; messageId: string } | { error: string }): Promise<void> {
  await db
    .updateTable('admin_notices')
    .set('error' in delivered ? { delivery_error: delivered.error } : { delivered_channel_id: delivered.channelId, delivered_message_id: delivered.messageId, delivery_error: null })
    .where('guild_id', '=', guildId)
    .where('cause', '=', cause)
    .where('window_started_at', '=', windowStartedAt)
    .execute();
}

/** A guild's notices since `since`, newest first; `undeliveredOnly`: those that reached no channel. */
export async function recentNotices(db: Kysely<Database>, guildId: string, since: Date, limit: number, undeliveredOnly = false): Promise<StoredNotice[]> {
  let query = db.selectFrom('admin_notices').selectAll().where('guild_id', '=', guildId).where('last_at', '>=', since);
  if (undeliveredOnly) query = query.where('delivered_channel_id', 'is', null);
  const rows = await query.orderBy('last_at', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    guildId: r.guild_id,
    cause: r.cause,
    kind: r.kind as NoticeKind,
    title: r.title,
    lines: Array.isArray(r.lines) ? r.lines.map(String) : [],
    link: r.link,
    repeats: r.repeats,
    total: r.total,
    lastAt: new Date(r.last_at),
    windowStartedAt: new Date(r.window_started_at),
    deliveredChannelId: r.delivered_channel_id,
    deliveryError: r.delivery_error,
  }));
}

/** Forgets notices not seen for `retentionDays`. */
export async function pruneNotices(db: Kysely<Database>, now: Date, retentionDays: number): Promise<number> {
  const deleted = await db.deleteFrom('admin_notices').where('last_at', '<', new Date(now.getTime() - retentionDays * 86_400_000)).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

export async function noticeChannelOf(db: Kysely<Database>, guildId: string): Promise<string | undefined> {
  const row = await db.selectFrom('guild_notice_channels').select('channel_id').where('guild_id', '=', guildId).executeTakeFirst();
  return row?.channel_id;
}

export async function setNoticeChannel(db: Kysely<Database>, guildId: string, channelId: string, setBy: string, now: Date): Promise<void> {
  await db
    .insertInto('guild_notice_channels')
    .values({ guild_id: guildId, channel_id: channelId, set_by: setBy, set_at: now })
    .onConflict((oc) => oc.column('guild_id').doUpdateSet({ channel_id: channelId, set_by: setBy, set_at: now }))
    .execute();
}

/** True when a channel was set. */
export async function clearNoticeChannel(db: Kysely<Database>, guildId: string): Promise<boolean> {
  const deleted = await db.deleteFrom('guild_notice_channels').where('guild_id', '=', guildId).executeTakeFirst();
  return Number(deleted.numDeletedRows) > 0;
}

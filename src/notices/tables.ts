import type { Json, Timestamp } from '../db/column-types.ts';

/** Table types for admin notices (migration 0016_history_and_notices), part of `Database`. */

export interface GuildNoticeChannelsTable {
  guild_id: string;
  channel_id: string;
  set_by: string;
  set_at: Timestamp;
}

export interface AdminNoticesTable {
  guild_id: string;
  /** What makes two notices the same one (see AdminNotice.cause). */
  cause: string;
  kind: string;
  title: string;
  lines: Json<string[]>;
  link: string | null;
  /** When the hour this cause was last posted in began. */
  window_started_at: Timestamp<'no default'>;
  /** Occurrences in that hour, the posted one included. */
  repeats: number;
  /** Occurrences in the hour before it, shown on the next post. */
  previous_repeats: number;
  total: number;
  last_at: Timestamp<'no default'>;
  /** Set once the notice of this window reached the notices channel. */
  delivered_channel_id: string | null;
  delivered_message_id: string | null;
  /** Why it could not be posted (no channel, no access), for status. */
  delivery_error: string | null;
}

export interface NoticeTables {
  guild_notice_channels: GuildNoticeChannelsTable;
  admin_notices: AdminNoticesTable;
}

import type { Json, Timestamp } from '../db/column-types.ts';

/** A guild as Discord's `/users/@me/guilds` listed it at login. */
export interface SessionGuild {
  id: string;
  name: string;
  /** The member's permission bits in that guild, as a decimal string. */
  permissions: string;
}

/** Table types for dashboard sessions (migration 0017_web_sessions), part of `Database`. */
export interface WebSessionsTable {
  id_hash: string;
  user_id: string;
  user_name: string;
  guilds: Json<SessionGuild[]>;
  csrf_token: string;
  created_at: Timestamp<'no default'>;
  expires_at: Timestamp<'no default'>;
  revoked_at: Timestamp | null;
}

export interface WebTables {
  web_sessions: WebSessionsTable;
}

import type { Json, Timestamp } from '../db/column-types.ts';

/** Table types for API keys and feeds (migration 0018_api_keys_and_feeds), part of `Database`. */

export interface ApiKeysTable {
  id: string;
  guild_id: string;
  /** The public part of `rk_<prefix_id>_<secret>`: how a key is found. */
  prefix_id: string;
  /** sha-256 (hex) of the secret part; the secret itself is never stored. */
  secret_sha256: string;
  name: string;
  scopes: Json<string[]>;
  /** The admin the key acts as, with that admin's permissions as they stand at each request. */
  created_by: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  /** Written at most once a minute per key. */
  last_used_at: Timestamp | null;
}

export interface FeedsTable {
  id: string;
  guild_id: string;
  /** sha-256 (hex) of the token in the feed's URL. */
  token_sha256: string;
  kind: 'channel' | 'digest';
  /** A channel id, or a digest id. */
  target_id: string;
  title: string;
  confirmed_private: boolean;
  created_by: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
}

export interface ApiTables {
  api_keys: ApiKeysTable;
  feeds: FeedsTable;
}

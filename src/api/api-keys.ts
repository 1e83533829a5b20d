/**
 * Per-guild API keys: created by an admin (shown to them once), listed,
 * revoked, and verified on each request. The dashboard and
 * `/recap-config api-key` both use this store.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { digestsEqual, newKey, parseKey, secretDigest } from './key-format.ts';

export const API_SCOPES = ['summaries:read', 'summaries:create'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Active keys a guild may hold: bounds one tenant's rows and lookups. */
export const MAX_KEYS_PER_GUILD = 25;
/** last_used_at is written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Compared against when the prefix id is unknown, so both paths do the same work. */
const DUMMY_DIGEST = secretDigest('no key has this secret');

export interface ApiKeyInfo {
  id: string;
  guildId: string;
  prefixId: string;
  name: string;
  scopes: ApiScope[];
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export class ApiKeyLimitError extends Error {
  override readonly name = 'ApiKeyLimitError';
}

export class ApiKeyStore {
  readonly #lastTouched = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key in full is in the answer only: show it once. */
  async create(input: { guildId: string; name: string; scopes: readonly ApiScope[]; createdBy: string }): Promise<{ key: string; info: ApiKeyInfo }> {
    const scopes = [...new Set(input.scopes)].filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0) throw new RangeError('an API key needs at least one scope');
    const active = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('guild_id', '=', input.guildId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_KEYS_PER_GUILD) throw new ApiKeyLimitError(`this server already has ${MAX_KEYS_PER_GUILD} active API keys; revoke one first`);
    const { key, prefixId, secret } = newKey();
    const id = randomUUID();
    const createdAt = new Date(this.now());
    await this.db
      .insertInto('api_keys')
      .values({
        id,
        guild_id: input.guildId,
        prefix_id: prefixId,
        secret_sha256: secretDigest(secret),
        name: input.name,
        scopes: JSON.stringify(scopes),
        created_by: input.createdBy,
        created_at: createdAt,
      })
      .execute();
    return { key, info: { id, guildId: input.guildId, prefixId, name: input.name, scopes, createdBy: input.createdBy, createdAt, revokedAt: null, lastUsedAt: null } };
  }

  async list(guildId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('guild_id', '=', guildId).orderBy('created_at', 'desc').limit(100).execute();
    return rows.map(infoOf);
  }

  /** `ref` is the key's prefix id (as listed) or its whole text; false when this guild has no such active key. */
  async revoke(guildId: string, ref: string, revokedBy: string): Promise<boolean> {
    const prefixId = parseKey(ref.trim())?.prefixId ?? ref.trim();
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date(this.now()), revoked_by: revokedBy })
      .where('guild_id', '=', guildId)
      .where('prefix_id', '=', prefixId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The active key `presented` is, or undefined (unknown, malformed, wrong secret or revoked: one answer for all). */
  async verify(presented: string): Promise<ApiKeyInfo | undefined> {
    const parts = parseKey(presented);
    if (parts === undefined) return undefined;
    const row = await this.db.selectFrom('api_keys').selectAll().where('prefix_id', '=', parts.prefixId).executeTakeFirst();
    const matches = digestsEqual(secretDigest(parts.secret), row?.secret_sha256 ?? DUMMY_DIGEST);
    if (row === undefined || !matches || row.revoked_at !== null) return undefined;
    return infoOf(row);
  }

  /** Records use, at most once a minute per key (here and, through the WHERE, across processes). */
  async touch(id: string): Promise<void> {
    const now = this.now();
    const last = this.#lastTouched.get(id);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.#lastTouched.set(id, now);
    if (this.#lastTouched.size > 10_000) this.#lastTouched.clear();
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(now) })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now - LAST_USED_RESOLUTION_MS))]))
      .execute();
  }
}

function infoOf(row: {
  id: string;
  guild_id: string;
  prefix_id: string;
  name: string;
  scopes: unknown;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}): ApiKeyInfo {
  const scopes = Array.isArray(row.scopes) ? row.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly unknown[]).includes(s)) : [];
  return {
    id: row.id,
    guildId: row.guild_id,
    prefixId: row.prefix_id,
    name: row.name,
    scopes,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}

/**
 * Feeds and their tokens: created and revoked by a guild's admins. The
 * token is the feed's URL (`/feeds/<token>.atom`): 256 random bits, of
 * which only the sha-256 is stored, so the table alone opens no feed.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const MAX_FEEDS_PER_GUILD = 25;
export const FEED_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface FeedInfo {
  id: string;
  guildId: string;
  kind: 'channel' | 'digest';
  targetId: string;
  title: string;
  confirmedPrivate: boolean;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export class FeedLimitError extends Error {
  override readonly name = 'FeedLimitError';
}

const tokenDigest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class FeedStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token is in the answer only: shown once. */
  async create(input: { guildId: string; kind: 'channel' | 'digest'; targetId: string; title: string; confirmedPrivate: boolean; createdBy: string }): Promise<{ token: string; info: FeedInfo }> {
    const active = await this.db
      .selectFrom('feeds')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('guild_id', '=', input.guildId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_FEEDS_PER_GUILD) throw new FeedLimitError(`this server already has ${MAX_FEEDS_PER_GUILD} active feeds; revoke one first`);
    const token = randomBytes(32).toString('base64url');
    const info: FeedInfo = { id: randomUUID(), ...input, createdAt: new Date(this.now()), revokedAt: null };
    await this.db
      .insertInto('feeds')
      .values({
        id: info.id,
        guild_id: info.guildId,
        token_sha256: tokenDigest(token),
        kind: info.kind,
        target_id: info.targetId,
        title: info.title,
        confirmed_private: info.confirmedPrivate,
        created_by: info.createdBy,
        created_at: info.createdAt,
      })
      .execute();
    return { token, info };
  }

  async list(guildId: string): Promise<FeedInfo[]> {
    const rows = await this.db.selectFrom('feeds').selectAll().where('guild_id', '=', guildId).orderBy('created_at', 'desc').limit(100).execute();
    return rows.map(infoOf);
  }

  /** `ref`: the feed's id (as listed) or its whole URL or token. */
  async revoke(guildId: string, ref: string, revokedBy: string): Promise<boolean> {
    const token = /([A-Za-z0-9_-]{43})(?:\.atom)?\/?$/.exec(ref.trim())?.[1];
    const result = await this.db
      .updateTable('feeds')
      .set({ revoked_at: new Date(this.now()), revoked_by: revokedBy })
      .where('guild_id', '=', guildId)
      .where('revoked_at', 'is', null)
      .where((eb) => (token === undefined ? eb('id', '=', ref.trim()) : eb.or([eb('id', '=', ref.trim()), eb('token_sha256', '=', tokenDigest(token))])))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The active feed this token opens. Found by the token's digest: nothing secret is compared. */
  async open(token: string): Promise<FeedInfo | undefined> {
    if (!FEED_TOKEN.test(token)) return undefined;
    const row = await this.db.selectFrom('feeds').selectAll().where('token_sha256', '=', tokenDigest(token)).where('revoked_at', 'is', null).executeTakeFirst();
    return row === undefined ? undefined : infoOf(row);
  }
}

function infoOf(row: {
  id: string;
  guild_id: string;
  kind: 'channel' | 'digest';
  target_id: string;
  title: string;
  confirmed_private: boolean;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
}): FeedInfo {
  return {
    id: row.id,
    guildId: row.guild_id,
    kind: row.kind,
    targetId: row.target_id,
    title: row.title,
    confirmedPrivate: row.confirmed_private,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}

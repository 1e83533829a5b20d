import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../resilience/clock.ts';
import { randomToken, sha256, type CookieCrypto } from './cookie-crypto.ts';
import type { SessionGuild } from './tables.ts';

export interface WebSession {
  userId: string;
  userName: string;
  guilds: SessionGuild[];
  csrfToken: string;
  expiresAt: Date;
}

export interface SessionStore {
  /** A new session; `cookie` is the signed value for the session cookie. */
  create(input: { userId: string; userName: string; guilds: SessionGuild[] }): Promise<{ cookie: string; session: WebSession }>;
  /** The live session a cookie names; forged cookies are refused before any database work. */
  find(cookie: string): Promise<WebSession | undefined>;
  /** Logout: the session ends now, whoever holds the cookie. */
  revoke(cookie: string): Promise<void>;
  /** Deletes ended sessions (expired or revoked). */
  sweep(): Promise<number>;
}

/** Sessions in `web_sessions`, keyed by the SHA-256 of a random id that only the cookie carries. */
export function createSessionStore(deps: { db: Kysely<Database>; crypto: CookieCrypto; clock: Clock; ttlMs: number }): SessionStore {
  const { db, crypto, clock } = deps;
  const idOf = (cookie: string): string | undefined => {
    const id = crypto.verify(cookie);
    return id !== undefined && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
  };
  return {
    async create(input) {
      const id = randomToken(32);
      const now = clock.now();
      const session: WebSession = { ...input, csrfToken: randomToken(32), expiresAt: new Date(now + deps.ttlMs) };
      await db
        .insertInto('web_sessions')
        .values({
          id_hash: sha256(id),
          user_id: input.userId,
          user_name: input.userName,
          guilds: JSON.stringify(input.guilds),
          csrf_token: session.csrfToken,
          created_at: new Date(now),
          expires_at: session.expiresAt,
        })
        .execute();
      return { cookie: crypto.sign(id), session };
    },
    async find(cookie) {
      const id = idOf(cookie);
      if (id === undefined) return undefined;
      const row = await db
        .selectFrom('web_sessions')
        .select(['user_id', 'user_name', 'guilds', 'csrf_token', 'expires_at'])
        .where('id_hash', '=', sha256(id))
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date(clock.now()))
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return { userId: row.user_id, userName: row.user_name, guilds: row.guilds, csrfToken: row.csrf_token, expiresAt: row.expires_at };
    },
    async revoke(cookie) {
      const id = idOf(cookie);
      if (id === undefined) return;
      await db.updateTable('web_sessions').set({ revoked_at: new Date(clock.now()) }).where('id_hash', '=', sha256(id)).execute();
    },
    async sweep() {
      const result = await db
        .deleteFrom('web_sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', new Date(clock.now())), eb('revoked_at', 'is not', null)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

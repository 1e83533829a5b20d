import type { Kysely } from 'kysely';

/**
 * Dashboard sessions, held server-side so logout (and expiry) revokes them at
 * once: the cookie carries a random id whose SHA-256 is the key here, so a
 * leaked table row is no usable cookie. `guilds` is the member's guild list
 * from Discord at login (ids, names, permission bits); admin pages re-check
 * the member with the bot's own view on every request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('web_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('guilds', 'jsonb', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('web_sessions_expires_idx').on('web_sessions').column('expires_at').execute();
  // The overview's "last summary" and recent count, without reading a guild's whole history.
  await db.schema.createIndex('summaries_guild_created_idx').on('summaries').columns(['guild_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('summaries_guild_created_idx').execute();
  await db.schema.dropTable('web_sessions').execute();
}

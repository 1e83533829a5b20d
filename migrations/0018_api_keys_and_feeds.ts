import { sql, type Kysely } from 'kysely';

/**
 * Per-guild REST API keys and Atom feed tokens. Neither secret is stored:
 * a key is found by its public prefix id and checked against the sha-256
 * of its secret part; a feed is found by the sha-256 of its token.
 * Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('prefix_id', 'text', (c) => c.notNull().unique())
    .addColumn('secret_sha256', 'text', (c) => c.notNull().check(sql`secret_sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_keys_guild_idx').on('api_keys').columns(['guild_id', 'created_at']).execute();

  await db.schema
    .createTable('feeds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('token_sha256', 'text', (c) => c.notNull().unique().check(sql`token_sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('channel', 'digest')`))
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    /** The admin confirmed a feed of a channel @everyone cannot read (anyone with the URL reads it). */
    .addColumn('confirmed_private', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .execute();
  await db.schema.createIndex('feeds_guild_idx').on('feeds').columns(['guild_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('feeds').execute();
  await db.schema.dropTable('api_keys').execute();
}

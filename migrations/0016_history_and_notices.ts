import { sql, type Kysely } from 'kysely';

/**
 * Summary history and admin notices. `summary_posts`: every public message a
 * summary was posted as (a summary may be posted more than once, and in
 * several messages), so history links to it and deleting one in Discord
 * forgets the summary. `guild_notice_channels`: where a guild's admin
 * notices go. `admin_notices`: one row per guild and cause, the hour window
 * it was last posted in and how often it recurred, so two processes never
 * both post the same notice. Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('summary_posts')
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('summary_id', 'text', (c) => c.notNull().references('summaries.id').onDelete('cascade'))
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('part', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('posted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A category summary's message holds several channels' summaries.
    .addPrimaryKeyConstraint('summary_posts_pk', ['message_id', 'summary_id'])
    .execute();
  await db.schema.createIndex('summary_posts_summary_idx').on('summary_posts').column('summary_id').execute();
  // The prune scans summaries by age across guilds.
  await db.schema.createIndex('summaries_created_idx').on('summaries').column('created_at').execute();

  await db.schema
    .createTable('guild_notice_channels')
    .addColumn('guild_id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('set_by', 'text', (c) => c.notNull())
    .addColumn('set_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('admin_notices')
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('lines', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('link', 'text')
    .addColumn('window_started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('repeats', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('previous_repeats', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('last_at', 'timestamptz', (c) => c.notNull())
    .addColumn('delivered_channel_id', 'text')
    .addColumn('delivered_message_id', 'text')
    .addColumn('delivery_error', 'text')
    .addPrimaryKeyConstraint('admin_notices_pk', ['guild_id', 'cause'])
    .execute();
  await db.schema.createIndex('admin_notices_recent_idx').on('admin_notices').columns(['guild_id', 'last_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('admin_notices').execute();
  await db.schema.dropTable('guild_notice_channels').execute();
  await db.schema.dropIndex('summaries_created_idx').execute();
  await db.schema.dropTable('summary_posts').execute();
}

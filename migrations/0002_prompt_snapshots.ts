import { sql, type Kysely } from 'kysely';

/**
 * Snapshots of guild prompt repositories, so a restart during a GitHub outage
 * still serves each guild's custom prompts, and a log of every fetch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('prompt_snapshots')
    // api host | owner/repo @ ref # credential scope
    .addColumn('cache_key', 'text', (c) => c.primaryKey())
    .addColumn('api_host', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('commit_sha', 'text', (c) => c.notNull())
    .addColumn('etag', 'text')
    // gzip of the snapshot's files; decoded and validated again on load.
    .addColumn('files', 'bytea', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull())
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'timestamptz')
    .addColumn('gone_since', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('prompt_snapshots_repo_idx')
    .on('prompt_snapshots')
    .columns(['api_host', 'owner', 'repo', 'ref'])
    .execute();

  await db.schema
    .createTable('prompt_fetch_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('cache_key', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('commit_sha', 'text')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('prompt_fetch_log_key_idx').on('prompt_fetch_log').columns(['cache_key', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('prompt_fetch_log').execute();
  await db.schema.dropTable('prompt_snapshots').execute();
}

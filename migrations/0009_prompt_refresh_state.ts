import type { Kysely } from 'kysely';

/**
 * What a refresh learned besides a good snapshot, kept per cache key (repo,
 * ref and credential scope) so it survives restarts: the newest commit when
 * it fails validation (with its problems and its own ETag, so the row of the
 * last good snapshot keeps its own), and an authoritative denial (404, 401,
 * 403) under which the snapshot is kept but not served.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('prompt_invalid_heads')
    .addColumn('cache_key', 'text', (c) => c.primaryKey())
    .addColumn('commit_sha', 'text', (c) => c.notNull())
    .addColumn('etag', 'text')
    // [{ severity, code, file, line?, column?, message }], bounded by the writer.
    .addColumn('problems', 'jsonb', (c) => c.notNull())
    .addColumn('seen_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('prompt_access_denials')
    .addColumn('cache_key', 'text', (c) => c.primaryKey())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('since', 'timestamptz', (c) => c.notNull())
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('prompt_access_denials').execute();
  await db.schema.dropTable('prompt_invalid_heads').execute();
}

import type { Kysely } from 'kysely';

/**
 * Prompt-cache accounting per call: input tokens read from and written to
 * the provider's cache (billed apart from plain input), and whether the
 * call's token counts are the project's estimate rather than the
 * provider's report.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('llm_calls')
    .addColumn('cache_read_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_write_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('estimated', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('llm_calls').dropColumn('estimated').dropColumn('cache_write_tokens').dropColumn('cache_read_tokens').execute();
}

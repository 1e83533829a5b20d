import { sql, type Kysely } from 'kysely';

/**
 * One row per routed language-model call, successful or not: the source of
 * usage reports and of the daily spend a guild's budget is checked against.
 * Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('llm_calls')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // Null for calls made outside a guild (CLI, operator tasks).
    .addColumn('guild_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('task', 'text', (c) => c.notNull())
    // Null when the call never reached a provider (refused, nothing available).
    .addColumn('provider', 'text')
    .addColumn('model', 'text')
    .addColumn('input_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_usd', 'numeric(12, 6)', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('key_source', 'text', (c) => c.notNull().check(sql`key_source in ('guild', 'operator', 'none')`))
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Budgets and /ai-config usage read one guild's recent calls.
  await db.schema.createIndex('llm_calls_guild_created_idx').on('llm_calls').columns(['guild_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('llm_calls').execute();
}

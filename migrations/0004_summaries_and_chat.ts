import { sql, type Kysely } from 'kysely';

/**
 * Summaries (so an identical request is answered from storage), the partial
 * summaries of map-reduce chunks (so a retry after a provider failure
 * reuses the finished ones), and chat memory per channel or thread.
 * Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('summaries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text')
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('first_message_id', 'text', (c) => c.notNull())
    .addColumn('last_message_id', 'text', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull())
    .addColumn('options', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('request_key', 'text', (c) => c.notNull().unique())
    .addColumn('prompt', 'jsonb', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input_tokens', 'integer', (c) => c.notNull())
    .addColumn('output_tokens', 'integer', (c) => c.notNull())
    .addColumn('cost_usd', 'numeric(14, 6)', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('citations', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('chunks', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('warnings', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'text')
    .execute();
  // History of a channel's summaries, newest first.
  await db.schema.createIndex('summaries_channel_idx').on('summaries').columns(['guild_id', 'channel_id', 'created_at']).execute();

  await db.schema
    .createTable('summary_chunks')
    .addColumn('chunk_key', 'text', (c) => c.primaryKey())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('tokens', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Pruning old partials scans by age.
  await db.schema.createIndex('summary_chunks_created_idx').on('summary_chunks').column('created_at').execute();

  await db.schema
    .createTable('chat_memory')
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('running_summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('turns', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('chat_memory_pk', ['guild_id', 'channel_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('chat_memory').execute();
  await db.schema.dropTable('summary_chunks').execute();
  await db.schema.dropTable('summaries').execute();
}

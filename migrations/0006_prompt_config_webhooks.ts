import { sql, type Kysely } from 'kysely';

/**
 * Per-guild GitHub webhooks. Each guild's prompt config gets its own payload
 * URL (`/webhooks/github/<hook_id>`) and its own secret (sealed in the vault
 * under the `webhook-secret` purpose), so one guild's admins cannot sign
 * deliveries that change another guild's config. Each delivery row records
 * which hook verified it (null: the operator's GITHUB_WEBHOOK_SECRET).
 * Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('prompt_config_webhooks')
    // Random and opaque (not the guild id): knowing it only earns a 401 without the secret.
    .addColumn('hook_id', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text', (c) => c.notNull().unique().references('guild_prompt_configs.guild_id').onDelete('cascade'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('rotated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_delivery_at', 'timestamptz')
    // Set by a verified ping or push for this config's repository.
    .addColumn('verified_at', 'timestamptz')
    .execute();

  await db.schema.alterTable('webhook_deliveries').addColumn('hook_id', 'text').execute();
  // "Was this commit already processed for this repository?" (replays under new delivery ids).
  await db.schema.createIndex('webhook_deliveries_repo_idx').on('webhook_deliveries').columns(['repo', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_repo_idx').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('hook_id').execute();
  await db.schema.dropTable('prompt_config_webhooks').execute();
}

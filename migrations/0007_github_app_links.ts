import { sql, type Kysely } from 'kysely';

/**
 * GitHub App installations linked to guilds, and the one-time `state`
 * nonces of the install links that create those links. An installation's
 * token serves a guild only through a row here, written after an admin of
 * the GitHub account proved it through GitHub. Postgres 15 syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('github_app_links')
    .addColumn('guild_id', 'text', (c) => c.notNull())
    // Text, not bigint: drivers disagree on how a bigint comes back.
    .addColumn('installation_id', 'text', (c) => c.notNull().check(sql`installation_id ~ '^[0-9]{1,19}$'`))
    .addColumn('account_login', 'text', (c) => c.notNull())
    .addColumn('account_type', 'text', (c) => c.notNull().check(sql`account_type in ('User', 'Organization')`))
    .addColumn('linked_by_discord_user', 'text', (c) => c.notNull())
    .addColumn('linked_by_github_login', 'text', (c) => c.notNull())
    .addColumn('linked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('github_app_links_pkey', ['guild_id', 'installation_id'])
    .execute();
  await db.schema.createIndex('github_app_links_installation_idx').on('github_app_links').column('installation_id').execute();

  await db.schema
    .createTable('github_app_install_states')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('discord_user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('github_app_install_states_guild_idx').on('github_app_install_states').columns(['guild_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('github_app_install_states').execute();
  await db.schema.dropTable('github_app_links').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Router state every process reads: rate-limit counters (the layout
 * rate-limiter-flexible's Postgres store expects: key, points, expire in ms
 * since epoch) and, per target and credential scope, a cooldown asked for by
 * a provider's Retry-After and the shared side of its circuit breaker.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Unlogged: counters for a one-minute window need no crash safety, and a write that waits for no WAL
  // flush keeps the per-call check well under a millisecond (a crash empties the table, which only forgives).
  await db.schema
    .createTable('llm_rate_limits')
    .modifyFront(sql`unlogged`)
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
  await db.schema
    .createTable('llm_target_state')
    // `provider/model`; scope is '' for the operator's key, else the guild whose own key this is.
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('cooldown_until', 'timestamptz')
    .addColumn('open_until', 'timestamptz')
    .addColumn('probe_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('llm_target_state_pkey', ['target', 'scope'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('llm_target_state').execute();
  await db.schema.dropTable('llm_rate_limits').execute();
}

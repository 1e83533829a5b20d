import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Budgets shared by every process: per scope (`guild:<id>`) and UTC day, the
 * spend settled so far and when the 80% and 100% thresholds were first
 * crossed; beside it the reservations of calls in flight, each with a lease
 * so a crashed process's reservations stop counting once it runs out.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('llm_budget_days')
    .addColumn('scope', 'text', (c) => c.notNull())
    // 'YYYY-MM-DD' of the UTC day: compared as text, never shifted by a session time zone.
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('spent_usd', sql`numeric(14, 6)`, (c) => c.notNull().defaultTo(0))
    .addColumn('crossed_80_at', 'timestamptz')
    .addColumn('crossed_100_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('llm_budget_days_pk', ['scope', 'day'])
    .execute();
  await db.schema
    .createTable('llm_budget_holds')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('amount_usd', sql`numeric(14, 6)`, (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('llm_budget_holds_scope_idx').on('llm_budget_holds').columns(['scope', 'day', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('llm_budget_holds').execute();
  await db.schema.dropTable('llm_budget_days').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * The durable job table every process claims work from (src/jobs/), the
 * recurring-job slots that make `every()` run once per interval across the
 * deployment, and scheduled digests with a record of each run.
 * Postgres 15 and PGlite syntax only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('guild_id', 'text')
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('queued', 'running', 'done', 'failed')`))
    .addColumn('dedupe_key', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(3))
    .addColumn('run_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('result', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // The claim's question: which queued jobs of these kinds are due, and which running ones lost their lease?
  await db.schema
    .createIndex('jobs_claimable_idx')
    .on('jobs')
    .columns(['kind', 'run_at'])
    .where(sql<boolean>`state in ('queued', 'running')`)
    .execute();
  // One unfinished job per dedupe key; enqueue's ON CONFLICT names this index's predicate.
  await db.schema
    .createIndex('jobs_dedupe_key_live_idx')
    .on('jobs')
    .column('dedupe_key')
    .unique()
    .where(sql<boolean>`state in ('queued', 'running')`)
    .execute();
  // Pruning finished jobs.
  await db.schema.createIndex('jobs_finished_idx').on('jobs').column('finished_at').execute();

  await db.schema
    .createTable('job_schedules')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('interval_ms', 'bigint', (c) => c.notNull())
    .addColumn('next_run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_job_id', 'text')
    .execute();

  await db.schema
    .createTable('digests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('source_kind', 'text', (c) => c.notNull().check(sql`source_kind in ('channel', 'category')`))
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('cadence', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('cron', 'text')
    .addColumn('type', 'text')
    .addColumn('perspective', 'text')
    .addColumn('language', 'text')
    .addColumn('skip_if_quiet', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('paused_reason', 'text')
    .addColumn('next_run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('digests_guild_idx').on('digests').column('guild_id').execute();
  // The scheduler's question: which active digests are due?
  await db.schema.createIndex('digests_due_idx').on('digests').column('next_run_at').where(sql<boolean>`not paused`).execute();

  await db.schema
    .createTable('digest_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('digest_id', 'text', (c) => c.notNull().references('digests.id').onDelete('cascade'))
    .addColumn('guild_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('window_end', 'timestamptz', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('message_count', 'integer')
    .addColumn('message_url', 'text')
    .addColumn('detail', 'text')
    .addColumn('job_id', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addUniqueConstraint('digest_runs_once', ['digest_id', 'due_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('digest_runs').execute();
  await db.schema.dropTable('digests').execute();
  await db.schema.dropTable('job_schedules').execute();
  await db.schema.dropTable('jobs').execute();
}

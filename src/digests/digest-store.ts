import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DigestRunsTable, DigestsTable } from './tables.ts';
import type { ScheduleSpec } from './schedule.ts';

/** Digests and their runs in the database; every statement runs on Postgres 15 and PGlite. */

export type DigestRow = Selectable<DigestsTable>;
export type DigestRunRow = Selectable<DigestRunsTable>;

/** A tenant bound: each digest reads history and calls a model on its schedule. */
export const MAX_DIGESTS_PER_GUILD = 25;

export interface NewDigest extends ScheduleSpec {
  guildId: string;
  sourceId: string;
  sourceKind: 'channel' | 'category';
  destinationId: string;
  type?: string | undefined;
  perspective?: string | undefined;
  language?: string | undefined;
  skipIfQuiet: boolean;
  createdBy: string;
  nextRunAt: Date;
  /** The window the schedule implies for the first run: from the slot before the first one. */
  windowStart: Date;
}

export function scheduleOf(row: Pick<DigestRow, 'cadence' | 'at' | 'timezone' | 'cron'>): ScheduleSpec {
  return { cadence: row.cadence, at: row.at, timezone: row.timezone, cron: row.cron ?? undefined };
}

/** Short enough to type in `/digest pause id:…`. */
function newDigestId(): string {
  return randomBytes(5).toString('hex');
}

export class DigestLimitError extends Error {
  override readonly name = 'DigestLimitError';
}

export async function createDigest(db: Kysely<Database>, input: NewDigest, now: Date): Promise<DigestRow> {
  return db.transaction().execute(async (trx) => {
    // Counted and inserted under the guild's lock, so two creates at once cannot both pass the bound.
    const locked = await trx.selectFrom('digests').select('id').where('guild_id', '=', input.guildId).forUpdate().execute();
    if (locked.length >= MAX_DIGESTS_PER_GUILD) throw new DigestLimitError(`A server can have at most ${MAX_DIGESTS_PER_GUILD} digests; delete one first (\`/digest list\`).`);
    return trx
      .insertInto('digests')
      .values({
        id: newDigestId(),
        guild_id: input.guildId,
        source_id: input.sourceId,
        source_kind: input.sourceKind,
        destination_id: input.destinationId,
        cadence: input.cadence,
        at: input.at,
        timezone: input.timezone,
        cron: input.cron ?? null,
        type: input.type ?? null,
        perspective: input.perspective ?? null,
        language: input.language ?? null,
        skip_if_quiet: input.skipIfQuiet,
        next_run_at: input.nextRunAt,
        window_start: input.windowStart,
        created_by: input.createdBy,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function listDigests(db: Kysely<Database>, guildId: string): Promise<DigestRow[]> {
  return db.selectFrom('digests').selectAll().where('guild_id', '=', guildId).orderBy('created_at').orderBy('id').execute();
}

/** Only within the guild: an id from another server reads as unknown. */
export async function findDigest(db: Kysely<Database>, guildId: string, id: string): Promise<DigestRow | undefined> {
  return db.selectFrom('digests').selectAll().where('guild_id', '=', guildId).where('id', '=', id.trim().toLowerCase()).executeTakeFirst();
}

export async function digestById(db: Kysely<Database>, id: string): Promise<DigestRow | undefined> {
  return db.selectFrom('digests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function setPaused(
  db: Kysely<Database>,
  id: string,
  paused: { paused: true; reason: string } | { paused: false; nextRunAt: Date; windowStart?: Date },
  now: Date,
): Promise<void> {
  await db
    .updateTable('digests')
    .set(
      paused.paused
        ? { paused: true, paused_reason: paused.reason, updated_at: now }
        : { paused: false, paused_reason: null, next_run_at: paused.nextRunAt, consecutive_failures: 0, updated_at: now, ...(paused.windowStart === undefined ? {} : { window_start: paused.windowStart }) },
    )
    .where('id', '=', id)
    .execute();
}

export async function deleteDigest(db: Kysely<Database>, guildId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('digests').where('guild_id', '=', guildId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function lastRuns(db: Kysely<Database>, digestId: string, limit: number): Promise<DigestRunRow[]> {
  return db.selectFrom('digest_runs').selectAll().where('digest_id', '=', digestId).orderBy('due_at', 'desc').limit(limit).execute();
}

/**
 * Opens the run of this due time, or returns the one already there (a retry,
 * or a second delivery of the same job): the unique (digest, due time) pair
 * is the last guard that a due time is run once.
 */
export async function openRun(
  db: Kysely<Database>,
  input: { digestId: string; guildId: string; dueAt: Date; trigger: 'schedule' | 'run-now'; windowStart: Date; windowEnd: Date; jobId: string; now: Date },
): Promise<{ run: DigestRunRow; opened: boolean }> {
  const inserted = await db
    .insertInto('digest_runs')
    .values({
      id: randomUUID(),
      digest_id: input.digestId,
      guild_id: input.guildId,
      due_at: input.dueAt,
      trigger: input.trigger,
      window_start: input.windowStart,
      window_end: input.windowEnd,
      outcome: 'running',
      job_id: input.jobId,
      started_at: input.now,
    })
    .onConflict((oc) => oc.columns(['digest_id', 'due_at']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted !== undefined) return { run: inserted, opened: true };
  const existing = await db.selectFrom('digest_runs').selectAll().where('digest_id', '=', input.digestId).where('due_at', '=', input.dueAt).executeTakeFirstOrThrow();
  return { run: existing, opened: false };
}

export async function finishRun(
  db: Kysely<Database>,
  runId: string,
  result: { outcome: DigestRunRow['outcome']; messageCount?: number | undefined; messageUrl?: string | undefined; detail?: string | undefined },
  now: Date,
): Promise<void> {
  await db
    .updateTable('digest_runs')
    .set({
      outcome: result.outcome,
      message_count: result.messageCount ?? null,
      message_url: result.messageUrl ?? null,
      detail: result.detail ?? null,
      finished_at: now,
    })
    .where('id', '=', runId)
    .execute();
}

/** Counts a failed run; returns how many in a row have failed now. */
export async function countFailure(db: Kysely<Database>, digestId: string): Promise<number> {
  const row = await db
    .updateTable('digests')
    .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
    .where('id', '=', digestId)
    .returning('consecutive_failures')
    .executeTakeFirst();
  return row?.consecutive_failures ?? 0;
}

export async function clearFailures(db: Kysely<Database>, digestId: string): Promise<void> {
  await db.updateTable('digests').set({ consecutive_failures: 0 }).where('id', '=', digestId).where('consecutive_failures', '>', 0).execute();
}

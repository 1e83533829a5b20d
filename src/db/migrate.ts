import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { migrations as allMigrations } from '../../migrations/index.ts';
import { messageOf } from '../log/error-message.ts';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export function createMigrator(db: Kysely<any>, migrations: Record<string, Migration> = allMigrations): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Applies every pending migration; returns the names applied. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const result: MigrationResultSet = await createMigrator(db).migrateToLatest();
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error !== undefined || failed !== undefined) {
    const cause = messageOf(result.error ?? 'unknown error');
    throw new MigrationError(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

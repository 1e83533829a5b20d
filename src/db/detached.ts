import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { Database } from './schema.ts';

/**
 * The application's schema over no database (Kysely's DummyDriver): every
 * read finds no rows and every write keeps nothing. What a one-off tool run
 * whose result is printed, not kept, is built on (the offline `recap
 * summarize`): each part sees a fresh, empty database, as on a first start,
 * without starting or migrating one.
 */
export function detachedDb(): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

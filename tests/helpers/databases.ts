import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type DatabaseKind } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log/logger.ts';

export const silentLogger = createLogger({ level: 'silent', format: 'json' });

export interface TestDatabase {
  kind: DatabaseKind;
  handle: DatabaseHandle;
  /** Real Postgres only: the URL of this throwaway database (for child processes). */
  url?: string;
}

/** A migrated PGlite cloned from the template the global setup built. */
export async function createPgliteDatabase(): Promise<DatabaseHandle> {
  const template = readFileSync(inject('pgliteTemplate'));
  const pglite = await PGlite.create({ loadDataDir: new Blob([template]) });
  return openDatabase({ dataDir: '', poolMax: 1, logger: silentLogger, pglite });
}

/** A fresh, migrated database on the real server; dropped by the returned cleanup. */
export async function createPostgresDatabase(): Promise<{ handle: DatabaseHandle; url: string; drop(): Promise<void> }> {
  const serverUrl = inject('postgresUrl');
  const name = `recap_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), dataDir: '', poolMax: 5, logger: silentLogger });
  await migrateToLatest(handle.db);
  return {
    handle,
    url: url.toString(),
    async drop() {
      await handle.close().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/**
 * Runs the same suite against embedded PGlite and against the real Postgres
 * server. The Postgres half is skipped (with the reason in its title) only
 * when no server is reachable; CI makes that a failure.
 */
export function describeEachDatabase(name: string, suite: (db: () => TestDatabase) => void): void {
  const postgresUrl = inject('postgresUrl');
  for (const kind of ['pglite', 'postgres'] as const) {
    const skip = kind === 'postgres' && postgresUrl === '';
    const title = skip ? `${name} [postgres: skipped, ${inject('postgresSkipReason')}]` : `${name} [${kind}]`;
    describe.skipIf(skip)(title, () => {
      let current: TestDatabase | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        if (kind === 'pglite') {
          current = { kind, handle: await createPgliteDatabase() };
        } else {
          const created = await createPostgresDatabase();
          current = { kind, handle: created.handle, url: created.url };
          drop = created.drop;
        }
      });
      afterAll(async () => {
        if (drop !== undefined) await drop();
        else await current?.handle.close();
      });
      suite(() => {
        if (current === undefined) throw new Error('test database not ready');
        return current;
      });
    });
  }
}

export { migrateToLatest };

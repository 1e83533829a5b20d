import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL for the real-Postgres suite; empty when it is skipped. */
    postgresUrl: string;
    postgresSkipReason: string;
    /** A migrated PGlite data directory (tar.gz), cloned by every PGlite test database. */
    pgliteTemplate: string;
  }
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      'select rolcreatedb or rolsuper as ok from pg_roles where rolname = current_user',
    );
    if (rows[0]?.ok !== true) return 'the role cannot create databases (needs CREATEDB)';
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return `${e.code ?? ''} ${e.message ?? String(error)}`.trim();
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_URL;
  const reason = await probePostgres(url);
  if (reason !== undefined) {
    const line = `real-Postgres suite SKIPPED: cannot use ${url.replace(/:[^:@/]+@/, ':***@')} (${reason}). Set TEST_DATABASE_URL to a server whose role can create databases.`;
    if (process.env.RECAP_REQUIRE_POSTGRES === '1') {
      throw new Error(`${line} RECAP_REQUIRE_POSTGRES=1, so this is a failure.`);
    }
    process.stderr.write(`\n*** ${line}\n\n`);
    project.provide('postgresUrl', '');
    project.provide('postgresSkipReason', reason);
  } else {
    project.provide('postgresUrl', url);
    project.provide('postgresSkipReason', '');
  }

  // Creating a PGlite data directory takes seconds; cloning a migrated one is fast.
  const pglite = await PGlite.create();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('gzip');
  await db.destroy();
  await pglite.close().catch(() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'recap-pglite-template-'));
  const file = join(dir, 'template.tar.gz');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

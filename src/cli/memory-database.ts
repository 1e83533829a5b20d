/**
 * A migrated in-memory PGlite for commands that keep nothing (`recap
 * summarize` of an export): they never open the service's embedded
 * directory, so they run beside `npm start` on the same DATA_DIR.
 *
 * Most of a fresh PGlite's start is its initdb, not the migrations; so the
 * first run saves the freshly migrated database as a tarball under
 * DATA_DIR/cache, and later runs load that instead (bench/quickstart.ts
 * measures both). The tarball is named by a hash of the migrations' code and
 * the PGlite version: any change makes a new one. The cache is only a speed-up:
 * a missing, unreadable or unloadable file means a fresh initdb, as without it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { migrations } from '../../migrations/index.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { Logger } from '../log/logger.ts';
import { messageOf } from '../log/error-message.ts';

const PREFIX = 'pglite-migrated-';

export interface MemoryDatabaseOptions {
  dataDir: string;
  logger: Logger;
}

/** Opens and migrates an in-memory PGlite, from the cached template when there is one. */
export async function openMemoryDatabase(options: MemoryDatabaseOptions): Promise<DatabaseHandle> {
  const { logger } = options;
  const cacheDir = join(options.dataDir, 'cache');
  const file = join(cacheDir, `${PREFIX}${templateKey()}.tar`);
  const fromCache = await loadTemplate(file, logger);
  const pglite = fromCache ?? (await PGlite.create());
  const handle = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite });
  try {
    await migrateToLatest(handle.db);
    if (fromCache === undefined) await saveTemplate(pglite, cacheDir, file, logger);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

async function loadTemplate(file: string, logger: Logger): Promise<PGlite | undefined> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    const pglite = await PGlite.create({ loadDataDir: new Blob([bytes]) });
    await pglite.query('select 1');
    return pglite;
  } catch (error) {
    logger.warn({ file, err: messageOf(error) }, 'the cached empty database cannot be loaded; creating a fresh one');
    removeQuietly(file);
    return undefined;
  }
}

/** Written to a temporary name and renamed, so a concurrent run never loads half a file. */
async function saveTemplate(pglite: PGlite, cacheDir: string, file: string, logger: Logger): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('none');
    mkdirSync(cacheDir, { recursive: true });
    const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    renameSync(temporary, file);
    // Templates of older migration sets are never loaded again.
    for (const name of readdirSync(cacheDir)) {
      if (name.startsWith(PREFIX) && join(cacheDir, name) !== file && name.endsWith('.tar')) removeQuietly(join(cacheDir, name));
    }
  } catch (error) {
    logger.debug({ err: messageOf(error) }, 'could not cache the empty database; the next run creates it afresh');
  }
}

/** Changes whenever a migration's code or the PGlite build changes. */
function templateKey(): string {
  const hash = createHash('sha256');
  hash.update(pgliteVersion());
  for (const [name, migration] of Object.entries(migrations)) {
    hash.update(`\u0000${name}\u0000${String(migration.up)}\u0000${String(migration.down ?? '')}`);
  }
  return hash.digest('hex').slice(0, 16);
}

function pgliteVersion(): string {
  try {
    const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
    // dist/index.js → the package's own package.json.
    const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: unknown };
    return String(manifest.version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

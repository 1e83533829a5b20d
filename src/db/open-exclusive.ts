/**
 * Opens the configured database, holding the embedded directory's lock for
 * as long as the handle is open: PGlite itself takes none, and a second
 * process on the same directory damages it. Real Postgres, and a PGlite the
 * caller already opened, need no lock.
 */
import { resolve } from 'node:path';
import { openDatabase, type DatabaseHandle, type DatabaseOptions } from './database.ts';
import { acquirePgliteLock, type LockOptions } from './pglite-lock.ts';

/** Where `openDatabase` keeps the embedded data under DATA_DIR. */
function pgliteDirectory(dataDir: string): string {
  return resolve(dataDir, 'pglite');
}

export async function openDatabaseExclusive(options: DatabaseOptions, lockOptions: LockOptions = {}): Promise<DatabaseHandle> {
  if (options.url !== undefined || options.pglite !== undefined) return openDatabase(options);
  const lock = acquirePgliteLock(pgliteDirectory(options.dataDir), lockOptions);
  if (lock.tookOver !== undefined) {
    options.logger.warn(
      { pid: lock.tookOver.pid, command: lock.tookOver.command, since: lock.tookOver.startedAt },
      'took over the embedded database from a process that is gone',
    );
  }
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase(options);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    ...handle,
    close: async () => {
      try {
        await handle.close();
      } finally {
        lock.release();
      }
    },
  };
}

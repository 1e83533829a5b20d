import type { Config } from '../config/env.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabaseExclusive } from '../db/open-exclusive.ts';
import type { Logger } from '../log/logger.ts';
import { createCliLogger, loadCliConfig } from './cli-config.ts';
import type { CliContext } from './command.ts';

/** What most commands need: validated config, a logger on stderr (stdout is for results), and the database. */
export interface CliRuntime {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  close(): Promise<void>;
}

export interface CliRuntimeOptions {
  migrate: boolean;
}

export async function openCliRuntime(ctx: CliContext, options: CliRuntimeOptions): Promise<CliRuntime> {
  const config = loadCliConfig(ctx);
  const logger = createCliLogger(config, ctx);
  const database = await openCliDatabase(config, logger, options);
  return { config, logger, database, close: () => database.close() };
}

/** DATABASE_URL's Postgres, else the embedded PGlite under DATA_DIR (which only one process may open). */
export async function openCliDatabase(config: Config, logger: Logger, options: CliRuntimeOptions): Promise<DatabaseHandle> {
  const url = config.database.url?.reveal();
  const database = await openDatabaseExclusive({ url, dataDir: config.dataDir, poolMax: Math.min(config.database.poolMax, 4), logger });
  try {
    if (options.migrate) await migrateToLatest(database.db);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return database;
}

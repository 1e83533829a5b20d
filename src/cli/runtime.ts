import { environmentWithDotenv, loadConfig, type Config } from '../config/env.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabaseExclusive } from '../db/open-exclusive.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { CliContext } from './command.ts';
import { openMemoryDatabase } from './memory-database.ts';

/** What most commands need: validated config, a logger on stderr (stdout is for results), and the database. */
export interface CliRuntime {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  close(): Promise<void>;
}

export interface CliRuntimeOptions {
  migrate: boolean;
  /**
   * `memory`: without DATABASE_URL, an empty in-memory PGlite instead of the
   * one under DATA_DIR (see memory-database.ts). For commands that keep nothing worth keeping (a
   * summary of an export file): they then never contend with a running
   * service for its embedded directory, which only one process may open.
   */
  embedded?: 'data-dir' | 'memory';
}

export function loadCliConfig(ctx: CliContext): Config {
  return loadConfig(environmentWithDotenv(ctx.env, ctx.cwd));
}

function createCliLogger(config: Config, ctx: CliContext): Logger {
  // Commands default to warnings only: their output is the result, not a log.
  const level = ctx.env.LOG_LEVEL === undefined || ctx.env.LOG_LEVEL === '' ? 'warn' : config.log.level;
  return createLogger({ level, format: config.log.format, destination: ctx.stderr });
}

export async function openCliRuntime(ctx: CliContext, options: CliRuntimeOptions): Promise<CliRuntime> {
  const config = loadCliConfig(ctx);
  const logger = createCliLogger(config, ctx);
  const url = config.database.url?.reveal();
  const databaseOptions = { url, dataDir: config.dataDir, poolMax: Math.min(config.database.poolMax, 4), logger };
  const database =
    url === undefined && options.embedded === 'memory'
      ? await openMemoryDatabase({ dataDir: config.dataDir, logger })
      : await openDatabaseExclusive(databaseOptions);
  try {
    if (options.migrate) await migrateToLatest(database.db);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return { config, logger, database, close: () => database.close() };
}

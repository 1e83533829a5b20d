import { environmentWithDotenv, loadConfig, type Config } from '../config/env.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { CliContext } from './command.ts';

/** What most commands need: validated config, a logger on stderr (stdout is for results), and the database. */
export interface CliRuntime {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  close(): Promise<void>;
}

export function loadCliConfig(ctx: CliContext): Config {
  return loadConfig(environmentWithDotenv(ctx.env, ctx.cwd));
}

export function createCliLogger(config: Config, ctx: CliContext): Logger {
  // Commands default to warnings only: their output is the result, not a log.
  const level = ctx.env.LOG_LEVEL === undefined || ctx.env.LOG_LEVEL === '' ? 'warn' : config.log.level;
  return createLogger({ level, format: config.log.format, destination: ctx.stderr });
}

export async function openCliRuntime(ctx: CliContext, options: { migrate: boolean }): Promise<CliRuntime> {
  const config = loadCliConfig(ctx);
  const logger = createCliLogger(config, ctx);
  const database = await openDatabase({
    url: config.database.url?.reveal(),
    dataDir: config.dataDir,
    poolMax: Math.min(config.database.poolMax, 4),
    logger,
  });
  try {
    if (options.migrate) await migrateToLatest(database.db);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return { config, logger, database, close: () => database.close() };
}

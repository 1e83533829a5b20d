import { environmentWithDotenv, loadConfig, type Config } from '../config/env.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { CliContext } from './command.ts';

export function loadCliConfig(ctx: CliContext): Config {
  return loadConfig(environmentWithDotenv(ctx.env, ctx.cwd));
}

export function createCliLogger(config: Config, ctx: CliContext): Logger {
  // Commands default to warnings only: their output is the result, not a log.
  const level = ctx.env.LOG_LEVEL === undefined || ctx.env.LOG_LEVEL === '' ? 'warn' : config.log.level;
  return createLogger({ level, format: config.log.format, destination: ctx.stderr });
}

import { createApp } from './app.ts';
import { environmentWithDotenv, loadConfig } from './config/env.ts';
import { createLogger } from './log/logger.ts';
import { reportStartupFailure } from './startup-errors.ts';

/** `npm start`: the long-running service. */
async function main(): Promise<void> {
  const startedAt = performance.now();
  const env = environmentWithDotenv(process.env, process.cwd());
  const debug = String(env.LOG_LEVEL ?? '').toLowerCase() === 'debug' || String(env.LOG_LEVEL ?? '').toLowerCase() === 'trace';
  let app;
  try {
    const config = loadConfig(env);
    const logger = createLogger({ level: config.log.level, format: config.log.format });
    app = await createApp(config, logger);
    const { url } = await app.start();
    logger.info(
      {
        http: url,
        database: app.database.description,
        secrets: app.vault.locked ? 'off (no RECAP_MASTER_KEYS)' : 'on',
        startupMs: Math.round(performance.now() - startedAt),
      },
      'recap-bot is running',
    );
  } catch (error) {
    process.exitCode = reportStartupFailure(error, process.stderr, debug);
    await app?.stop().catch(() => undefined);
    return;
  }

  const running = app;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'shutting down');
    running
      .stop()
      .then(() => {
        running.logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        running.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();

import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { environmentWithDotenv, loadConfig } from './config/env.ts';
import { createLogger } from './log/logger.ts';
import { exitWith } from './process/exit.ts';
import { installFatalPolicy, type FatalPolicy } from './process/fatal-policy.ts';
import { shardLogFields, startShardingRole, type ShardingRole } from './sharding/role.ts';
import { reportStartupFailure } from './startup-errors.ts';

/** `npm start`: the long-running service. */
async function main(): Promise<void> {
  const startedAt = performance.now();
  const env = environmentWithDotenv(process.env, process.cwd());
  const debug = String(env.LOG_LEVEL ?? '').toLowerCase() === 'debug' || String(env.LOG_LEVEL ?? '').toLowerCase() === 'trace';
  let app;
  let sharding: ShardingRole;
  let policy: FatalPolicy | undefined;
  // Handlers from the first moment: a supervisor's SIGTERM during start-up (migrations, the
  // gateway) must not kill the process mid-write; it stops once started, exiting 0.
  let shutdown: ((signal: string) => void) | undefined;
  let stopRequested: string | undefined;
  const onSignal = (signal: string): void => {
    if (shutdown === undefined) stopRequested ??= signal;
    else shutdown(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    const config = loadConfig(env);
    const logger = createLogger({ level: config.log.level, format: config.log.format, base: { pid: process.pid, ...shardLogFields(config.sharding) } });
    // After an uncaught exception the state is unknown: stop briefly, then let the supervisor restart us.
    policy = installFatalPolicy({ process, logger, stopTimeoutMs: 5_000 });
    app = await createApp(config, logger, { env });
    const created = app;
    policy.attach({ metrics: created.metrics, stop: () => created.stop(), correlationId: () => created.correlation.current() });
    const { url } = await app.start();
    // SHARDS: the manager starts one process per shard, each running this file.
    sharding = await startShardingRole(config, app, fileURLToPath(import.meta.url));
    logger.info(
      {
        http: url,
        database: app.database.description,
        secrets: app.vault.locked ? 'off (no RECAP_MASTER_KEYS)' : 'on',
        startupMs: Math.round(performance.now() - startedAt),
        ...sharding.running.fields,
      },
      sharding.running.message,
    );
  } catch (error) {
    const code = reportStartupFailure(error, process.stderr, debug);
    await app?.stop().catch(() => undefined);
    policy?.uninstall();
    exitWith(code);
    return;
  }

  const running = app;
  const role = sharding;
  let stopping = false;
  shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'shutting down');
    // The shards first: they finish their interactions while this process still serves HTTP.
    role
      .stop()
      .then(async (clean) => {
        await running.stop();
        running.logger.info('stopped');
        process.exit(clean ? 0 : 1);
      })
      .catch((error: unknown) => {
        running.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  const stop = shutdown;
  role.onOrphaned(() => stop('the shard manager is gone'));
  if (stopRequested !== undefined) stop(stopRequested);
  process.on('SIGHUP', () => {
    running.logger.info('SIGHUP: reloading the plugins config');
    role.forward('SIGHUP');
    running.llm
      .reload()
      .then((result) => {
        if (result.ok) running.logger.info({ result }, 'plugins config reloaded');
        else running.logger.error({ error: result.error }, 'plugins reload refused; keeping the previous set');
      })
      .catch((error: unknown) => running.logger.error({ err: error }, 'plugins reload failed; keeping the previous set'));
  });
}

await main();

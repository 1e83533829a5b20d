import type { ChildProcess } from 'node:child_process';
import { ShardingManager, type Shard } from 'discord.js';
import type { Secret } from '../config/secret.ts';
import type { Logger } from '../log/logger.ts';
import type { GatewayView } from '../discord/gateway-readiness.ts';
import type { ProcessMetrics } from './merge-metrics.ts';
import { resolveShardCount } from './shard-count.ts';
import { requestMetrics } from './shard-metrics.ts';
import { trackShardGateways } from './shard-gateway.ts';
import { messageOf } from '../log/error-message.ts';

export interface ShardManagerOptions {
  /** The file each shard process runs: the service's own entry (src/main.ts). */
  entry: string;
  token: Secret;
  /** DISCORD_API_URL, for `auto` (tests point it at an emulator). */
  apiUrl: string | undefined;
  shards: 'auto' | number;
  /** SHARD_IDS: the part of `shards` this host runs (other hosts run the rest); unset, every one. */
  ids?: readonly number[];
  /** Between two shards' start: Discord allows one IDENTIFY per 5 s per concurrency bucket. */
  spawnDelayMs: number;
  /** A shard must reach Discord's READY within this (process start-up included). */
  readyTimeoutMs?: number;
  logger: Logger;
  /** Gets the shards' gateway states (for /readyz) before the first shard starts. */
  watchGateway?: (read: () => GatewayView) => void;
}

export interface ShardManager {
  /** The deployment's total number of shards. */
  readonly count: number;
  /** The shards this manager runs. */
  readonly ids: readonly number[];
  /** Each shard's metrics; `metrics` undefined for a shard that did not answer within `timeoutMs`. */
  collectMetrics(timeoutMs: number): Promise<ProcessMetrics[]>;
  /** Passes a signal on to every shard process (SIGHUP: reload the plugins config). */
  forward(signal: NodeJS.Signals): void;
  /** SIGTERM to every shard, then waits; false when one did not exit with code 0 within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<boolean>;
}

/**
 * Runs the Discord side of the bot as one child process per shard
 * (discord.js ShardingManager, process mode). Each child is a whole app
 * process on the shared Postgres with HTTP off; this process keeps HTTP.
 * A shard that dies is started again; once `stop` begins, none is.
 */
export async function startShardManager(options: ShardManagerOptions): Promise<ShardManager> {
  const { logger } = options;
  const count = await resolveShardCount(options.shards, options.token, options.apiUrl);
  const ids = options.ids ?? [...Array(count).keys()];
  const manager = new ShardingManager(options.entry, {
    totalShards: count,
    shardList: [...ids],
    mode: 'process',
    token: options.token.reveal(),
    // From the sources (tsx) the entry is TypeScript: each child loads tsx as `node --import tsx`
    // does, resolved here so the children find it whatever their working directory. The
    // compiled build (dist/) has no tsx; its children run with this process's flags (`npm start`'s
    // memory settings).
    execArgv: options.entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : process.execArgv,
    respawn: true,
  });
  let stopping = false;
  options.watchGateway?.(trackShardGateways(manager));
  manager.on('shardCreate', (shard: Shard) => {
    logger.info({ shard: shard.id, of: count }, 'starting a shard process');
    shard.on('death', (child) => {
      if (stopping) return;
      const { exitCode, signalCode } = child as ChildProcess;
      logger.warn({ shard: shard.id, exitCode, signal: signalCode }, 'a shard process exited; starting it again');
    });
    // Emitted when a respawn fails; an unhandled 'error' event would end this process.
    shard.on('error', (error) => logger.error({ err: error, shard: shard.id }, 'a shard process could not be started again'));
  });

  let requestSeq = 0;
  const shardManager: ShardManager = {
    count,
    ids,
    async collectMetrics(timeoutMs) {
      return Promise.all(
        [...manager.shards.values()].map((shard) =>
          requestMetrics(shard, ++requestSeq, timeoutMs).then(
            (metrics): ProcessMetrics => ({ process: String(shard.id), metrics }),
            (error: unknown): ProcessMetrics => {
              logger.warn({ err: error, shard: shard.id }, 'no metrics from a shard');
              return { process: String(shard.id), metrics: undefined };
            },
          ),
        ),
      );
    },
    forward(signal) {
      for (const shard of manager.shards.values()) shard.process?.kill(signal);
    },
    async stop(timeoutMs = 20_000) {
      stopping = true;
      manager.respawn = false;
      const results = await Promise.all([...manager.shards.values()].map((shard) => stopShard(shard, timeoutMs, logger)));
      return results.every(Boolean);
    },
  };

  try {
    await manager.spawn({ amount: count, delay: options.spawnDelayMs, timeout: options.readyTimeoutMs ?? 60_000 });
  } catch (error) {
    await shardManager.stop(5_000);
    throw new Error(`the shard processes did not all start: ${messageOf(error)}`, { cause: error });
  }
  return shardManager;
}

async function stopShard(shard: Shard, timeoutMs: number, logger: Logger): Promise<boolean> {
  const child = shard.process;
  if (child === null) return true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const exit = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    logger.error({ shard: shard.id, timeoutMs }, 'a shard process did not stop in time; killing it');
    child.kill('SIGKILL');
    await exited;
    return false;
  }
  if (exit.code !== 0) logger.error({ shard: shard.id, exitCode: exit.code, signal: exit.signal }, 'a shard process stopped with an error');
  return exit.code === 0;
}

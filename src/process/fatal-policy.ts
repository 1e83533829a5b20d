import { randomBytes } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';

type ProcessErrorKind = 'uncaught_exception' | 'unhandled_rejection';

/** What the policy needs from the process: the events, and a way out. */
interface PolicyProcess {
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  exit(code: number): void;
}

interface FatalPolicyOptions {
  process: PolicyProcess;
  logger: Logger;
  /** The correlation id of the work that failed, when the failure happened inside one. */
  correlationId?: () => string | undefined;
  /** Longest graceful stop after an uncaught exception; then the process exits regardless. */
  stopTimeoutMs?: number;
}

export interface FatalPolicy {
  /** Once the app exists: its metrics, its graceful stop and where the running work's correlation id is. */
  attach(app: { metrics: Registry; stop(): Promise<void>; correlationId?: () => string | undefined }): void;
  uninstall(): void;
}

export const PROCESS_ERRORS_METRIC = 'recap_process_errors_total';

/**
 * The one process-level policy for errors nothing else caught.
 *
 * - An unhandled rejection is a promise someone forgot to await or catch:
 *   the work it belonged to has failed, but no state was left half-changed
 *   by a throw through synchronous code, so the process keeps serving.
 * - An uncaught exception unwound synchronous code at an unknown point, so
 *   state may be inconsistent: the process stops gracefully (bounded) and
 *   exits 1 for its supervisor to restart it. Work it held (webhook
 *   deliveries) is counted and taken again by the next process.
 *
 * Both are logged at error level with a correlation id (the failing work's,
 * or a new one) and counted in recap_process_errors_total{kind}.
 */
export function installFatalPolicy(options: FatalPolicyOptions): FatalPolicy {
  const { process: proc, logger } = options;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const pending: Record<ProcessErrorKind, number> = { uncaught_exception: 0, unhandled_rejection: 0 };
  let counter: Counter<'kind'> | undefined;
  let stopApp: (() => Promise<void>) | undefined;
  let exiting = false;

  const count = (kind: ProcessErrorKind): void => {
    if (counter === undefined) pending[kind] += 1;
    else counter.inc({ kind });
  };
  let currentId = options.correlationId;
  const idOf = (): string => currentId?.() ?? randomBytes(4).toString('hex');

  const onRejection = (reason: unknown): void => {
    count('unhandled_rejection');
    logger.error({ err: reason, correlationId: idOf(), kind: 'unhandled_rejection' }, 'unhandled promise rejection; the work it belonged to failed, the process keeps serving');
  };

  const onException = (error: Error): void => {
    count('uncaught_exception');
    const correlationId = idOf();
    if (exiting) {
      logger.fatal({ err: error, correlationId, kind: 'uncaught_exception' }, 'uncaught exception while stopping; exiting now');
      proc.exit(1);
      return;
    }
    exiting = true;
    logger.fatal({ err: error, correlationId, kind: 'uncaught_exception' }, 'uncaught exception; the process state is unknown, stopping and exiting with code 1');
    const stop = stopApp;
    if (stop === undefined) {
      proc.exit(1);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
    });
    Promise.race([stop().then(() => 'stopped' as const), timeout])
      .then((how) => {
        if (how === 'timeout') logger.error({ stopTimeoutMs }, 'graceful stop did not finish in time; exiting anyway');
      })
      .catch((stopError: unknown) => logger.error({ err: stopError }, 'graceful stop failed; exiting anyway'))
      .finally(() => {
        clearTimeout(timer);
        proc.exit(1);
      });
  };

  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);

  return {
    attach(app) {
      stopApp = () => app.stop();
      if (app.correlationId !== undefined) currentId = app.correlationId;
      const existing = app.metrics.getSingleMetric(PROCESS_ERRORS_METRIC) as Counter<'kind'> | undefined;
      counter =
        existing ??
        new Counter({
          name: PROCESS_ERRORS_METRIC,
          help: 'Errors no handler caught, by kind (uncaught_exception ends the process; unhandled_rejection does not).',
          labelNames: ['kind'],
          registers: [app.metrics],
        });
      for (const kind of ['uncaught_exception', 'unhandled_rejection'] as const) {
        counter.inc({ kind }, pending[kind]);
        pending[kind] = 0;
      }
    },
    uninstall() {
      proc.off('unhandledRejection', onRejection);
      proc.off('uncaughtException', onException);
    },
  };
}

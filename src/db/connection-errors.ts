import { sleep } from '../resilience/backoff.ts';

/**
 * SQLSTATEs and socket codes that mean "the connection went away", not "the
 * query was wrong": the backend was terminated (57P01 admin shutdown, 57P02
 * crash shutdown), the server is still starting (57P03), any class 08
 * connection exception, or the socket itself failed.
 */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/** node-postgres reports some losses with a message and no code. */
const LOST_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'terminating connection due to administrator command',
  'the database system is shutting down',
  'the database system is starting up',
];

/** What a Discord member reads when a write could not be safely repeated. */
export const CONNECTION_LOST_MESSAGE = 'The database connection dropped while handling that; please try again in a moment.';

/** True when `error` (or an error it wraps) says the database connection was lost. */
export function isConnectionLost(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && (CONNECTION_SQLSTATES.has(e.code) || e.code.startsWith('08') || SOCKET_CODES.has(e.code))) return true;
    if (typeof e.message === 'string' && LOST_MESSAGES.some((m) => (e.message as string).includes(m))) return true;
    // AggregateError from a dual-stack connect: each address failed.
    if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isConnectionLost(inner))) return true;
    current = e.cause;
  }
  return false;
}

export interface ConnectionRetryOptions {
  /** Waits before each repeat; its length is the number of repeats. */
  delaysMs?: readonly number[];
  /** Called before each repeat (logging, metrics). */
  onRetry?: (error: unknown, repeat: number) => void;
}

const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [100, 500];

/**
 * Runs `operation` again after a lost connection. Only for operations that
 * are safe to repeat: reads, and writes whose second run changes nothing
 * the first one did (upserts keyed by id, updates setting fixed values).
 * Any other error, and the last loss, propagates.
 */
export async function retryOnConnectionLoss<T>(operation: () => Promise<T>, options: ConnectionRetryOptions = {}): Promise<T> {
  const delays = options.delaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (let repeat = 0; ; repeat += 1) {
    try {
      return await operation();
    } catch (error) {
      const delay = delays[repeat];
      if (delay === undefined || !isConnectionLost(error)) throw error;
      options.onRetry?.(error, repeat + 1);
      await sleep(delay);
    }
  }
}

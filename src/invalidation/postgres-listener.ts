import pg from 'pg';
import { describeDatabaseError } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { jitteredBackoff } from '../resilience/backoff.ts';
import { assertChannelName, type ListenerCallbacks, type NotificationListener } from './listener.ts';

export interface PostgresListenerOptions {
  /** Where to connect: the pool's settings, so the listener reaches the same database. */
  connection: pg.ClientConfig;
  channel: string;
  logger: Logger;
  /** Reconnect delays: full-jitter exponential between these, never below minDelayMs. */
  reconnect?: { baseMs?: number; maxMs?: number; minDelayMs?: number };
  /** A half-open TCP connection raises no error; a periodic query finds it. 0 disables. */
  healthCheckMs?: number;
}

export const LISTENER_APPLICATION_NAME = 'recap-bot-invalidation';

/**
 * LISTEN on a dedicated connection. A pooled connection would be handed to
 * queries and recycled, silently dropping the subscription, so this one is
 * its own pg.Client, re-created with backoff whenever it is lost.
 */
export function createPostgresListener(options: PostgresListenerOptions): NotificationListener {
  const { channel, logger } = options;
  assertChannelName(channel);
  const baseMs = options.reconnect?.baseMs ?? 250;
  const maxMs = options.reconnect?.maxMs ?? 30_000;
  const minDelayMs = options.reconnect?.minDelayMs ?? 50;
  const healthCheckMs = options.healthCheckMs ?? 30_000;

  let callbacks: ListenerCallbacks | undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  /** Set whenever messages may have been missed; the next subscription reports it. */
  let missedSome = false;

  const lost = (lostClient: pg.Client, reason: string): void => {
    if (client !== lostClient) return;
    client = undefined;
    missedSome = true;
    lostClient.removeAllListeners('notification');
    lostClient.end().catch(() => undefined);
    if (!closed) {
      logger.warn({ reason }, 'invalidation listener lost its database connection; reconnecting');
      scheduleReconnect();
    }
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ ...options.connection, application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    let ended = false;
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) callbacks?.onPayload(message.payload);
    });
    // Unhandled, a client 'error' would crash the process.
    next.on('error', (error) => lost(next, describeDatabaseError(error)));
    next.on('end', () => {
      ended = true;
      lost(next, 'connection closed');
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      if (ended) throw new Error('connection closed while subscribing');
    } catch (error) {
      next.removeAllListeners();
      next.on('error', () => undefined);
      await next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    attempt = 0;
    if (missedSome) {
      missedSome = false;
      logger.info('invalidation listener subscribed again');
      callbacks?.onResubscribed();
    }
  };

  const scheduleReconnect = (): void => {
    if (closed || retryTimer !== undefined) return;
    const delay = Math.max(minDelayMs, jitteredBackoff(attempt, baseMs, maxMs));
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch((error: unknown) => {
        missedSome = true;
        logger.warn({ reason: describeDatabaseError(error), attempt }, 'invalidation listener could not reconnect; will retry');
        scheduleReconnect();
      });
    }, delay);
    retryTimer.unref();
  };

  const checkHealth = (): void => {
    const current = client;
    if (current === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${healthCheckMs} ms`)), healthCheckMs);
    });
    Promise.race([current.query('select 1'), timeout])
      .catch((error: unknown) => lost(current, describeDatabaseError(error)))
      .finally(() => clearTimeout(timer));
  };

  return {
    async start(cbs) {
      callbacks = cbs;
      try {
        await connect();
      } catch (error) {
        // The app keeps serving; other processes' changes arrive once this connects.
        missedSome = true;
        logger.warn({ reason: describeDatabaseError(error) }, 'invalidation listener could not connect; will retry');
        scheduleReconnect();
      }
      if (healthCheckMs > 0) {
        healthTimer = setInterval(checkHealth, healthCheckMs);
        healthTimer.unref();
      }
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(healthTimer);
      const current = client;
      client = undefined;
      if (current !== undefined) {
        current.removeAllListeners();
        current.on('error', () => undefined);
        await current.end().catch(() => undefined);
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { decodeMessage, encodeMessage, type InvalidationEvent } from './events.ts';
import type { NotificationListener } from './listener.ts';
import { createPgliteListener } from './pglite-listener.ts';
import { createPostgresListener, type PostgresListenerOptions } from './postgres-listener.ts';

export type InvalidationHandler = (event: InvalidationEvent) => void | Promise<void>;

/** What a publisher needs (webhooks, config commands): narrower than the bus. */
export interface InvalidationPublisher {
  publish(event: InvalidationEvent): Promise<void>;
}

export interface InvalidationBus extends InvalidationPublisher {
  /** This process's id in messages; its own messages are not handed back to it. */
  readonly origin: string;
  /** Handlers get other processes' events (and `all` after the listener was away). */
  subscribe(handler: InvalidationHandler): () => void;
  close(): Promise<void>;
}

interface InvalidationBusOptions {
  channel?: string;
  /** Real Postgres only: reconnect delays and the health-check period of the listening connection. */
  reconnect?: PostgresListenerOptions['reconnect'];
  healthCheckMs?: number;
}

export const DEFAULT_CHANNEL = 'recap_invalidation';

/**
 * Cross-process invalidation over Postgres LISTEN/NOTIFY. A process that
 * changed shared state (a config, a pushed repo) applies the change itself,
 * then publishes it so the others drop what they hold. Delivery is
 * best-effort: messages sent while a listener is disconnected are lost, so
 * after reconnecting it tells its handlers to drop everything (`all`).
 */
export async function createInvalidationBus(
  database: DatabaseHandle,
  logger: Logger,
  options: InvalidationBusOptions = {},
): Promise<InvalidationBus> {
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const origin = `${hostname().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 60) || 'host'}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const handlers = new Set<InvalidationHandler>();
  const log = logger.child({ component: 'invalidation' });
  const rejected = rejectionLog(log);

  const dispatch = (event: InvalidationEvent): void => {
    for (const handler of handlers) {
      try {
        Promise.resolve(handler(event)).catch((error: unknown) => log.warn({ err: error, kind: event.kind }, 'invalidation handler failed'));
      } catch (error) {
        log.warn({ err: error, kind: event.kind }, 'invalidation handler failed');
      }
    }
  };

  const listener = listenerFor(database, channel, log, options);
  await listener.start({
    onPayload(payload) {
      const decoded = decodeMessage(payload);
      if (!decoded.ok) {
        rejected(decoded.reason);
        return;
      }
      if (decoded.message.origin === origin) return;
      dispatch(decoded.message.event);
    },
    onResubscribed() {
      dispatch({ kind: 'all' });
    },
  });

  let closed = false;
  return {
    origin,
    async publish(event) {
      if (closed) throw new Error('the invalidation bus is closed');
      const payload = encodeMessage(origin, event);
      // Through the query pool (or the PGlite instance): the listening connection stays dedicated to LISTEN.
      await sql`select pg_notify(${channel}, ${payload})`.execute(database.db);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
      };
    },
    async close() {
      closed = true;
      handlers.clear();
      await listener.close();
    },
  };
}

function listenerFor(database: DatabaseHandle, channel: string, logger: Logger, options: InvalidationBusOptions): NotificationListener {
  if (database.listen !== undefined) return createPgliteListener(database.listen, channel);
  if (database.pool !== undefined) {
    return createPostgresListener({
      connection: database.pool.options,
      channel,
      logger,
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
      ...(options.healthCheckMs === undefined ? {} : { healthCheckMs: options.healthCheckMs }),
    });
  }
  throw new Error(`cannot listen for invalidations on ${database.description}: neither a Postgres pool nor PGlite`);
}

/**
 * Anyone with database access can NOTIFY our channel; a flood of garbage
 * must not flood the log, so rejections are logged at most every 10 s.
 */
function rejectionLog(logger: Logger): (reason: string) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (reason) => {
    const now = performance.now();
    if (now - lastAt < 10_000) {
      suppressed += 1;
      return;
    }
    logger.warn({ reason, suppressedSinceLast: suppressed }, 'ignored an invalid invalidation message');
    lastAt = now;
    suppressed = 0;
  };
}

import {
  PostgresDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';
import { isConnectionLost, retryOnConnectionLoss, type ConnectionRetryOptions } from './connection-errors.ts';

/**
 * Postgres through a pool, where a read that loses its connection (a
 * terminated backend, a server restart) is repeated on a fresh connection
 * instead of failing the request. Only plain reads outside a transaction are
 * repeated: a write, or anything inside a transaction, fails as it did, and
 * its caller decides (see retryOnConnectionLoss for writes that are safe to
 * repeat).
 */
export function retryingPostgresDialect(pool: pg.Pool, retry: ConnectionRetryOptions): Dialect {
  const inner = new PostgresDialect({ pool });
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => new RetryingDriver(inner.createDriver(), retry),
  };
}

/** A read that may run again on another connection without changing anything. */
function isRepeatableRead(query: CompiledQuery): boolean {
  if (query.query.kind === 'SelectQueryNode') return true;
  return query.query.kind === 'RawNode' && /^\s*select\b/i.test(query.sql) && !/\bfor\s+(update|share|no key update|key share)\b/i.test(query.sql);
}

class RetryingConnection implements DatabaseConnection {
  inTransaction = false;
  /** undefined once a lost connection was given back to the pool and no fresh one is held yet. */
  private held: DatabaseConnection | undefined;

  constructor(
    inner: DatabaseConnection,
    private readonly driver: RetryingDriver,
  ) {
    this.held = inner;
  }

  /** The pooled connection under this one (acquired again after a loss). */
  async inner(): Promise<DatabaseConnection> {
    this.held ??= await this.driver.acquireInner();
    return this.held;
  }

  /** Gives the held connection back to the pool (which drops it when it is broken). */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) await this.driver.releaseInner(held);
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await (await this.inner()).executeQuery<R>(query);
    } catch (error) {
      if (this.inTransaction || !isRepeatableRead(query) || !isConnectionLost(error)) throw error;
      // The held connection is dead: give it back first (a pool of one would otherwise wait for
      // it), then read again on a fresh one.
      return this.driver.repeat(error, async () => {
        await this.release().catch(() => undefined);
        return (await this.inner()).executeQuery<R>(query);
      });
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    yield* (await this.inner()).streamQuery<R>(query, chunkSize);
  }
}

class RetryingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly retry: ConnectionRetryOptions,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RetryingConnection(await this.inner.acquireConnection(), this);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as RetryingConnection;
    c.inTransaction = true;
    await this.inner.beginTransaction(await c.inner(), settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await this.inner.commitTransaction(await c.inner());
    } finally {
      c.inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await this.inner.rollbackTransaction(await c.inner());
    } finally {
      c.inTransaction = false;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.savepoint?.(await (connection as RetryingConnection).inner(), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.rollbackToSavepoint?.(await (connection as RetryingConnection).inner(), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.releaseSavepoint?.(await (connection as RetryingConnection).inner(), name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    c.inTransaction = false;
    await c.release();
  }

  acquireInner(): Promise<DatabaseConnection> {
    return this.inner.acquireConnection();
  }

  releaseInner(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  /** Runs `again` after each delay until it answers, fails otherwise, or the delays run out. */
  async repeat<T>(firstError: unknown, again: () => Promise<T>): Promise<T> {
    const delays = this.retry.delaysMs ?? [];
    if (delays.length === 0) throw firstError;
    this.retry.onRetry?.(firstError, 1);
    const [first, ...rest] = delays;
    await new Promise((r) => setTimeout(r, first));
    return retryOnConnectionLoss(again, {
      delaysMs: rest,
      ...(this.retry.onRetry === undefined ? {} : { onRetry: (e: unknown, n: number) => this.retry.onRetry?.(e, n + 1) }),
    });
  }
}

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
export function isRepeatableRead(query: CompiledQuery): boolean {
  if (query.query.kind === 'SelectQueryNode') return true;
  return query.query.kind === 'RawNode' && /^\s*select\b/i.test(query.sql) && !/\bfor\s+(update|share|no key update|key share)\b/i.test(query.sql);
}

class RetryingConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly driver: RetryingDriver,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (error) {
      if (this.inTransaction || !isRepeatableRead(query) || !isConnectionLost(error)) throw error;
      // This connection is dead (the pool drops it on release): repeat on a fresh one.
      return this.driver.onFreshConnection((fresh) => fresh.executeQuery<R>(query), error);
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
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
    await this.inner.beginTransaction(c.inner, settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await this.inner.commitTransaction(c.inner);
    } finally {
      c.inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    try {
      await this.inner.rollbackTransaction(c.inner);
    } finally {
      c.inTransaction = false;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.savepoint?.((connection as RetryingConnection).inner, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.rollbackToSavepoint?.((connection as RetryingConnection).inner, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    await this.inner.releaseSavepoint?.((connection as RetryingConnection).inner, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as RetryingConnection;
    c.inTransaction = false;
    await this.inner.releaseConnection(c.inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  /** Runs `query` on connections of its own until one answers or the retries run out. */
  async onFreshConnection<T>(query: (connection: DatabaseConnection) => Promise<T>, firstError: unknown): Promise<T> {
    const delays = this.retry.delaysMs ?? [];
    if (delays.length === 0) throw firstError;
    this.retry.onRetry?.(firstError, 1);
    const [first, ...rest] = delays;
    await new Promise((r) => setTimeout(r, first));
    return retryOnConnectionLoss(
      async () => {
        const fresh = await this.inner.acquireConnection();
        try {
          return await query(fresh);
        } finally {
          await this.inner.releaseConnection(fresh);
        }
      },
      { delaysMs: rest, ...(this.retry.onRetry === undefined ? {} : { onRetry: (e, n) => this.retry.onRetry?.(e, n + 1) }) },
    );
  }
}

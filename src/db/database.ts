import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Logger } from '../log/logger.ts';
import { retryingPostgresDialect } from './retrying-dialect.ts';
import { pgliteStartParams } from './pglite-settings.ts';
import { seedFromTemplate } from './pglite-template.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** The store seam: a typed query builder plus what operations need around it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Where the data lives, safe to print (no password). */
  description: string;
  /** Real Postgres only: the pool, for LISTEN/NOTIFY clients that need a dedicated connection. */
  pool?: pg.Pool;
  /** Embedded only: the PGlite instance. */
  pglite?: PGlite;
  /**
   * Embedded only: LISTEN through the handle, so that closing the database
   * stops every listener first (PGlite's close() never returns while one is
   * active).
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Real Postgres when set; embedded PGlite under `dataDir` otherwise. */
  url?: string | undefined;
  dataDir: string;
  poolMax: number;
  logger: Logger;
  /** Test seam: an already-open PGlite (e.g. cloned from a migrated template). */
  pglite?: PGlite;
}

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** Shows where a URL points without its password. */
function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Turns driver errors into one line an operator can act on. */
export function describeDatabaseError(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: Array<{ code?: string }> };
  const code = e?.code ?? e?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running, and is the host and port right?)';
    case 'ENOTFOUND':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case '28P01':
    case '28000':
      return 'authentication failed (check the user and password)';
    case '3D000':
      return 'database does not exist';
    case '57P01':
      return 'the server terminated the connection (administrator command or failover)';
    case '57P02':
    case '57P03':
      return 'the server is restarting';
    default:
      return e?.message ?? String(error);
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url === undefined ? openPglite(options) : openPostgres(options.url, options);
}

async function openPglite(options: DatabaseOptions): Promise<DatabaseHandle> {
  let pglite = options.pglite;
  let description = 'embedded PGlite (in memory)';
  if (pglite === undefined) {
    const dir = resolve(options.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    await seedFromTemplate(dir);
    pglite = await PGlite.create({ dataDir: dir, startParams: pgliteStartParams() });
    description = `embedded PGlite at ${dir}`;
  }
  const gate = closingGate(pglite);
  const db = new Kysely<Database>({ dialect: new PGliteDialect(gate.pglite) });
  const listeners = new Set<() => Promise<void>>();
  const handle: DatabaseHandle = {
    db,
    kind: 'pglite',
    description,
    pglite,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    listen: async (channel, onPayload) => {
      const stop = await pglite.listen(channel, onPayload);
      const unlisten = async (): Promise<void> => {
        if (!listeners.delete(unlisten)) return;
        if (!pglite.closed) await stop().catch(() => undefined);
      };
      listeners.add(unlisten);
      return unlisten;
    },
    close: async () => {
      for (const unlisten of [...listeners]) await unlisten();
      // PGlite never returns from close() while a query is still queued, and a
      // query sent after close() spins forever: refuse new ones, let the
      // running ones finish, then close.
      await gate.close();
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
  return handle;
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'recap-bot',
  });
  handleConnectionErrors(pool, options.logger);
  const description = describePostgresUrl(url);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`cannot connect to ${description}: ${describeDatabaseError(error)}`);
  }
  const db = new Kysely<Database>({
    dialect: retryingPostgresDialect(pool, {
      delaysMs: [100, 500, 1_500],
      onRetry: (error, repeat) =>
        options.logger.warn({ reason: describeDatabaseError(error), repeat }, 'database connection lost during a read; reading again on a fresh connection'),
    }),
  });
  return {
    db,
    kind: 'postgres',
    description,
    pool,
    ping: (timeoutMs = 2_000) => pingWithTimeout(db, timeoutMs),
    close: async () => {
      await db.destroy();
    },
  };
}

/**
 * Every pooled client gets its own 'error' listener. pg-pool listens on a
 * client only while it is idle; a backend terminated while its client is
 * checked out (a failover, pg_terminate_backend) would otherwise raise an
 * unhandled 'error' event and end the process. The query using the client
 * still fails (and is retried where that is safe); the pool drops the client
 * on release.
 */
function handleConnectionErrors(pool: pg.Pool, logger: Logger): void {
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger.warn({ reason: describeDatabaseError(error) }, 'database connection lost while in use; the query using it fails and the pool reconnects');
    });
  });
  // An idle client losing its connection emits here (pg-pool's own listener forwards it).
  pool.on('error', (error) => {
    logger.debug({ reason: describeDatabaseError(error) }, 'idle database connection lost; the pool will reconnect');
  });
}

async function pingWithTimeout(db: Kysely<Database>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sql`select 1`.execute(db), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Guards an embedded database against work that outlives it: once closing,
 * every new query is refused at once (queued work of other parts, such as
 * a sweep that was mid-way, fails like any query on a database that is
 * down), and close waits for the ones already running.
 */
function closingGate(pglite: PGlite): { pglite: PGlite; close(): Promise<void> } {
  let closing = false;
  let running = 0;
  let idle: (() => void) | undefined;
  const guarded = new Set<PropertyKey>(['query', 'exec', 'transaction']);
  const proxy = new Proxy(pglite, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!guarded.has(prop)) return method.bind(target);
      return async (...args: unknown[]) => {
        if (closing || target.closed) throw new DatabaseUnavailableError('the embedded database is closed');
        running += 1;
        try {
          return await method.apply(target, args);
        } finally {
          running -= 1;
          if (running === 0) idle?.();
        }
      };
    },
  });
  return {
    pglite: proxy,
    async close() {
      closing = true;
      if (running > 0) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}

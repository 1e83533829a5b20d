/**
 * A private Postgres cluster for fault tests that kill backends or restart
 * the server: never the shared server on 5432, which other suites use.
 *
 *   const pg = await startPrivatePostgres();       // initdb in a temp dir, start on a free port
 *   if ('skip' in pg) { …print pg.skip… }         // only when no Postgres binaries exist
 *   const url = await pg.createDatabase('recap_fault');
 *   await pg.terminateBackends('recap_fault');     // this database's backends only
 *   await pg.restart();                            // pg_ctl restart -m fast
 *   await pg.remove();                             // stop and delete the directory
 *
 * As root it runs the binaries as the `postgres` user (initdb refuses root);
 * otherwise as the current user, with initdb/pg_ctl from PATH or the usual
 * install folders.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PrivatePostgres {
  port: number;
  /** A URL for `database` on this cluster (trust auth, user postgres). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  /** pg_terminate_backend for every backend of `database` but the caller's; returns how many. */
  terminateBackends(database: string): Promise<number>;
  /** `pg_ctl restart -m fast`: every connection is dropped and the server comes back. */
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  remove(): Promise<void>;
}

/** Where initdb and pg_ctl are, or undefined when this machine has no Postgres binaries. */
export function findPostgresBinaries(): string | undefined {
  const candidates: string[] = [];
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim() !== '') candidates.push(join(onPath.stdout.trim(), '..'));
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql', '/opt/homebrew/opt']) {
    if (!existsSync(root)) continue;
    for (const version of readdirSync(root).sort().reverse()) candidates.push(join(root, version, 'bin'));
  }
  candidates.push('/usr/local/pgsql/bin');
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres | { skip: string }> {
  const bindir = findPostgresBinaries();
  if (bindir === undefined) return { skip: 'no Postgres binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin' };
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'recap-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const run = (binary: string, args: string[]): void => {
    const command = asRoot ? 'runuser' : join(bindir, binary);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bindir, binary), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) {
      throw new Error(`${binary} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };

  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const pgCtl = (action: string, extra: string[] = []): void => run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', ...extra, action]);
  try {
    run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    pgCtl('start');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url() });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  let removed = false;
  // A runner that exits without calling remove() (a timeout, a crash) must not leave a server running.
  const removeOnExit = (): void => {
    if (removed) return;
    removed = true;
    try {
      pgCtl('stop', ['-m', 'immediate']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeOnExit);

  return {
    port,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await admin((c) => c.query(`create database ${name}`));
      return url(name);
    },
    terminateBackends(database) {
      return admin(async (c) => {
        const { rows } = await c.query<{ n: string }>(
          'select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        );
        return Number(rows[0]?.n ?? 0);
      });
    },
    async restart() {
      pgCtl('restart', ['-m', 'fast']);
    },
    async remove() {
      process.off('exit', removeOnExit);
      removeOnExit();
    },
  };
}

/**
 * What an operator feels on start-up, each from a real process of the
 * compiled build (`npm run build` first): the CLI's help, the quick-start
 * summarize, `npm start` to /healthz answering on a fresh PGlite directory,
 * and the idle service's RSS on PGlite and on Postgres.
 *
 * `npm run bench -- startup --tsx` runs the same figures from the TypeScript
 * sources through tsx, for comparison.
 *
 * The Postgres figure uses a database of its own on 127.0.0.1:5432 (or
 * BENCH_POSTGRES_URL's server), created and dropped here; without a server it
 * is skipped with the reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { report } from './_report.ts';

const root = resolve(import.meta.dirname, '..');
const IDLE_SETTLE_MS = 5_000;

interface Mode {
  cli: string[];
  service: string[];
}

function modeFor(tsx: boolean): Mode {
  if (tsx) return { cli: ['--import', 'tsx', 'src/cli/main.ts'], service: ['--import', 'tsx', 'src/main.ts'] };
  const cli = join(root, 'dist/src/cli/bin.js');
  const service = join(root, 'dist/src/main.js');
  // As `npm start` runs it (package.json): the same node flags.
  const flags = startFlags();
  if (!existsSync(cli) || !existsSync(service)) throw new Error('no compiled build: run `npm run build` first');
  return { cli: [cli], service: [...flags, service] };
}

/** The node flags of package.json's start script. */
function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = manifest.scripts.start?.split(/\s+/) ?? [];
  return words.filter((w) => w.startsWith('--'));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function timedRun(args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}: ${String(result.stderr).slice(0, 500)}`);
  return ms;
}

/** User + system CPU the process has used: its own work, whatever else the machine runs. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the name); clock ticks are 100 Hz on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

async function untilHealthy(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before /healthz answered`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('/healthz did not answer in time');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Starts the service, times start → /healthz, then lets it idle and reads its RSS. */
async function serve(mode: Mode, env: NodeJS.ProcessEnv): Promise<{ healthzMs: number; healthzCpuMs: number; idleRssMb: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, mode.service, {
    cwd: root,
    env: { ...process.env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', RECAP_MASTER_KEYS: '', DISCORD_TOKEN: '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await untilHealthy(port, child);
    const healthzMs = performance.now() - started;
    const healthzCpuMs = cpuMs(child.pid as number);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    return { healthzMs, healthzCpuMs, idleRssMb: rssMb(child.pid as number) };
  } finally {
    await stop(child);
  }
}

async function withOwnPostgresDatabase<T>(use: (url: string) => Promise<T>): Promise<T | string> {
  const server = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `h_build_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch (error) {
    return `no Postgres at ${new URL(server).host} (${(error as Error).message})`;
  }
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

export async function run(args: string[]): Promise<void> {
  const mode = modeFor(args.includes('--tsx'));
  const scratch = mkdtempSync(join(tmpdir(), 'recap-bench-startup-'));
  try {
    const help: number[] = [];
    for (let i = 0; i < 5; i++) help.push(timedRun([...mode.cli, '--help'], {}));
    report('cli-help-ms', Math.round(Math.min(...help)), 'ms');

    const summarize: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dataDir = mkdtempSync(join(scratch, 'summarize-'));
      summarize.push(timedRun([...mode.cli, 'summarize', 'examples/sample-export.json'], { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: '' }));
    }
    report('quickstart-summarize-ms', Math.round(Math.min(...summarize)), 'ms');

    const pglite = await serve(mode, { DATA_DIR: mkdtempSync(join(scratch, 'serve-')), DATABASE_URL: '' });
    report('start-to-healthz-ms', Math.round(pglite.healthzMs), 'ms');
    report('start-to-healthz-cpu-ms', Math.round(pglite.healthzCpuMs), 'ms');
    report('idle-rss-pglite-mb', Math.round(pglite.idleRssMb), 'MB');

    const postgres = await withOwnPostgresDatabase((url) => serve(mode, { DATA_DIR: mkdtempSync(join(scratch, 'pg-')), DATABASE_URL: url }));
    if (typeof postgres === 'string') process.stdout.write(`idle-rss-postgres-mb: skipped (${postgres})\n`);
    else report('idle-rss-postgres-mb', Math.round(postgres.idleRssMb), 'MB');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

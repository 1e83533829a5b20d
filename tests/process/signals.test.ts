/**
 * The service under a supervisor (docker stop, systemd, kill <pid>): started
 * as `npm start` or as the packaged entry `node dist/src/main.js`, a SIGTERM
 * or SIGINT to the top process alone must stop the whole tree gracefully with
 * exit code 0; a start-up failure must exit non-zero and leave nothing behind.
 * Real processes of the compiled build, each on a fresh PGlite directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendantsOf, isRunning } from '../helpers/process-tree.ts';
import { ensureBuilt, ROOT, SERVICE_ENTRY } from './compiled-build.ts';

const scratch = mkdtempSync(join(tmpdir(), 'recap-signals-'));
let dirs = 0;
/** Every process a test started, so one that fails before stopping it leaves nothing running. */
const started: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The URL from the "recap-bot is running" log line; rejects if the process ends first. */
  listening: Promise<string>;
  stderr: () => string;
  stdout: () => string;
}

function start(command: string, args: string[], options: { detached: boolean; env?: Record<string, string> }): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: join(scratch, `data-${++dirs}`),
      DATABASE_URL: '',
      DISCORD_TOKEN: '',
      RECAP_MASTER_KEYS: '',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...options.env,
    },
  });
  started.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += String(chunk);
      for (const line of buffer.split('\n')) {
        if (!line.includes('recap-bot is running')) continue;
        resolve((JSON.parse(line) as { http: string }).http);
      }
    });
    void exited.then(({ code }) => reject(new Error(`exited with ${code} before listening: ${stderr}`)));
  });
  // A failing start-up never listens; the tests that expect it await `exited` instead.
  listening.catch(() => undefined);
  return { child, exited, listening, stderr: () => stderr, stdout: () => stdout };
}

async function allGone(pids: number[], withinMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(isRunning);
  }
  return alive;
}

/** Waits for /healthz, signals the top pid only, and returns its exit, what ran below it, and what survived. */
async function stopWith(running: Running, signal: NodeJS.Signals): Promise<{ code: number | null; below: number[]; survivors: number[] }> {
  const url = await running.listening;
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const top = running.child.pid as number;
  const below = descendantsOf(top);
  process.kill(top, signal);
  const { code } = await running.exited;
  return { code, below, survivors: await allGone([top, ...below]) };
}

beforeAll(() => ensureBuilt(), 600_000);
afterAll(() => {
  for (const child of started) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    for (const pid of [...descendantsOf(child.pid), child.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm start under a supervisor', () => {
  it('stops on SIGTERM to npm alone (own process group): exit 0, no process left', async () => {
    const running = start('npm', ['start'], { detached: true });
    const { code, below, survivors } = await stopWith(running, 'SIGTERM');
    // npm ran the service as a child: the signal had to reach it.
    expect(below.length).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
    expect(code).toBe(0);
    // It drained: the shutdown was the service's own, not a kill.
    expect(running.stdout()).toMatch(/"msg":"stopped"/);
  }, 120_000);

  it('stops on SIGINT to npm alone (the supervisor\'s group): exit 0, no process left', async () => {
    const running = start('npm', ['start'], { detached: false });
    const { code, below, survivors } = await stopWith(running, 'SIGINT');
    expect(below.length).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
    expect(code).toBe(0);
  }, 120_000);

  it('exits non-zero when start-up fails, leaving nothing behind', async () => {
    const running = start('npm', ['start', '--silent'], { detached: true, env: { HTTP_PORT: 'abc' } });
    const { code } = await running.exited;
    expect(code).not.toBe(0);
    expect(running.stderr()).toMatch(/^recap-bot: configuration: HTTP_PORT: expected a port number/m);
    expect(descendantsOf(running.child.pid as number)).toEqual([]);
  }, 120_000);
});

describe('the packaged entry point (node dist/src/main.js)', () => {
  it('stops on SIGTERM: exit 0, no process left', async () => {
    const running = start(process.execPath, [SERVICE_ENTRY], { detached: true });
    const { code, survivors } = await stopWith(running, 'SIGTERM');
    expect(survivors).toEqual([]);
    expect(code).toBe(0);
    expect(running.stdout()).toMatch(/"msg":"stopped"/);
  }, 120_000);

  it('exits non-zero when its database cannot be reached', async () => {
    const running = start(process.execPath, [SERVICE_ENTRY], { detached: true, env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    const { code } = await running.exited;
    expect(code).toBe(1);
    expect(running.stderr()).toMatch(/^recap-bot: database: cannot connect to postgres:\/\/nobody@127\.0\.0\.1:1\/none/m);
  }, 120_000);
});

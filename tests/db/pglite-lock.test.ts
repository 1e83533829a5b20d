/**
 * One process at a time on an embedded PGlite directory. The lock itself on
 * the real file system (including pid reuse, which needs a controlled view
 * of the process table), and the fault cases with real processes: the
 * service holding DATA_DIR while `recap migrate`, `recap keys rotate` and a
 * second service are started on it, `recap summarize` running beside it, and
 * the lock a SIGKILLed service leaves behind being taken over.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseInUseError,
  LOCK_FILE,
  acquirePgliteLock,
  parseHolder,
  readProcessStart,
  systemLockEnvironment,
  type LockEnvironment,
} from '../../src/db/pglite-lock.ts';
import { REPO_ROOT, spawnBotProcess, type BotProcess } from '../e2e/harness.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recap-lock-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the PGlite directory lock', () => {
  it('is exclusive: a second taker gets one line naming the holder, and it is free again after release', () => {
    const dir = tempDir();
    const lock = acquirePgliteLock(dir, { command: 'npm start', displayDir: './data/pglite' });
    const holder = parseHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname(), command: 'npm start' });

    let refusal: unknown;
    try {
      acquirePgliteLock(dir, { command: 'recap migrate', displayDir: './data/pglite' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DatabaseInUseError);
    expect((refusal as Error).message).toMatch(
      new RegExp(`^the embedded database in \\./data/pglite is in use by process ${process.pid} \\(npm start, since \\d\\d:\\d\\d UTC\\); stop it, or set DATABASE_URL to share a Postgres server$`),
    );

    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquirePgliteLock(dir).release();
  });

  it('takes over a lock whose pid now belongs to another process (the recorded start time differs)', () => {
    const dir = tempDir();
    // A live process (this one's parent) whose start time is not the recorded one: the pid was reused.
    const pid = process.ppid;
    expect(readProcessStart(pid)).not.toBeNull();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'npm start', processStart: '1', token: 'old' }),
    );
    const lock = acquirePgliteLock(dir);
    expect(lock.tookOver).toMatchObject({ pid, command: 'npm start' });
    expect(parseHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(process.pid);
    lock.release();
  });

  it('keeps a lock whose process is alive with the recorded start time, and names the day when it is not today', () => {
    const dir = tempDir();
    const pid = process.ppid;
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid, hostname: hostname(), startedAt: '2026-01-01T05:07:00.000Z', command: 'npm start', processStart: readProcessStart(pid), token: 'x' }),
    );
    expect(() => acquirePgliteLock(dir, { displayDir: 'DIR' })).toThrow(
      `the embedded database in DIR is in use by process ${pid} (npm start, since 2026-01-01 05:07 UTC); stop it, or set DATABASE_URL to share a Postgres server`,
    );
  });

  it('takes over when the process table says the pid is gone', () => {
    const dir = tempDir();
    const gone: LockEnvironment = { ...systemLockEnvironment, processAlive: (pid) => pid === process.pid };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4_000_000, hostname: hostname(), startedAt: new Date().toISOString(), command: 'x', processStart: null, token: 't' }));
    const lock = acquirePgliteLock(dir, { env: gone });
    expect(lock.tookOver?.pid).toBe(4_000_000);
    lock.release();
  });

  it('never takes over a lock from another host, and says how to clear it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 77, hostname: 'other-box', startedAt: new Date().toISOString(), command: 'npm start', processStart: null, token: 't' }));
    expect(() => acquirePgliteLock(dir, { displayDir: 'DIR' })).toThrow(/in use by process 77 \(npm start, since \d\d:\d\d UTC\) on host other-box; .* delete .*recap\.lock/);
  });

  it('treats a lock file just being written as held, and a garbled or long-empty one as stale', () => {
    const dir = tempDir();
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, '');
    expect(() => acquirePgliteLock(dir)).toThrow(DatabaseInUseError);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    acquirePgliteLock(dir).release();

    writeFileSync(path, '{"pid": "\u001b[31mnot a number"}');
    acquirePgliteLock(dir).release();
  });

  it('cleans what a hostile lock file says before printing it', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 'x', command: `evil\u001b[2J\nnext line${'y'.repeat(500)}`, processStart: readProcessStart(process.ppid), token: 't' }),
    );
    let message = '';
    try {
      acquirePgliteLock(dir);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/in use by process \d+ \(evil \[2J next liney+\)/);
    expect(message).not.toMatch(/[\u0000-\u001f]/);
    expect(message.length).toBeLessThan(400);
  });
});

// ---------------------------------------------------------------------------
// Real processes

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function childEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'NODE_ENV' || key.startsWith('npm_')) continue;
    env[key] = value;
  }
  return {
    ...env,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    DISCORD_TOKEN: '',
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    PLUGINS_CONFIG: '',
    RECAP_MASTER_KEYS: '',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    LOG_LEVEL: '',
    ...extra,
  };
}

function recap(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += String(c)));
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('two real processes on one DATA_DIR', () => {
  const started: BotProcess[] = [];
  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.running) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
  });

  it('refuses migrate, keys rotate and a second service with one line naming the holder; summarize runs beside it; a SIGKILLed holder\'s lock is taken over', async () => {
    const dataDir = tempDir();
    const lockPath = join(dataDir, 'pglite', LOCK_FILE);
    // As `npm start` runs it: npm sets npm_lifecycle_event.
    const service = spawnBotProcess(childEnv(dataDir, { npm_lifecycle_event: 'start' }));
    started.push(service);
    await service.ready(120_000);
    const pid = service.pid!;
    const holderLine = new RegExp(
      `^recap: error: database: the embedded database in ${dataDir.replaceAll('/', '\\/')}\\/pglite is in use by process ${pid} \\(npm start, since \\d\\d:\\d\\d UTC\\); stop it, or set DATABASE_URL to share a Postgres server\\n$`,
    );

    const [migrate, rotate, summarize] = await Promise.all([
      recap(['migrate'], childEnv(dataDir)),
      recap(['keys', 'rotate'], childEnv(dataDir, { RECAP_MASTER_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}` })),
      recap(['summarize', 'examples/sample-export.json', '--json'], childEnv(dataDir)),
    ]);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toMatch(holderLine);
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(holderLine);
    expect(summarize.stderr).not.toMatch(/in use/);
    expect(summarize.code).toBe(0);
    expect(JSON.parse(summarize.stdout)).toMatchObject({ provider: 'local', reused: false });

    const second = spawnBotProcess(childEnv(dataDir));
    started.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.output()).toMatch(new RegExp(`is in use by process ${pid} \\(npm start, since`));
    expect(service.running).toBe(true);
    expect(parseHolder(readFileSync(lockPath, 'utf8'))?.pid).toBe(pid);

    // Killed without a chance to clean up: the lock file stays, naming a process that is gone.
    service.child.kill('SIGKILL');
    await service.exited;
    expect(existsSync(lockPath)).toBe(true);

    const after = await recap(['migrate', '--status'], childEnv(dataDir, { LOG_LEVEL: 'warn' }));
    expect(after.stderr).toContain('took over the embedded database from a process that is gone');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^applied +0001_foundation$/m);
    // Released on the way out.
    expect(existsSync(lockPath)).toBe(false);
  }, 300_000);
});

/**
 * An exclusive lock on an embedded PGlite directory. PGlite takes no lock of
 * its own, and two processes writing one directory leave it in a state every
 * later open spins on; so whoever opens the directory first writes a lock
 * file into it, and everyone else gets one line naming the holder.
 *
 * The file is created with O_EXCL (atomic on local file systems). A lock is
 * stale when its process is gone from this host (kill(pid, 0) → ESRCH) or
 * its pid now belongs to another process (the kernel's start time of the pid,
 * from /proc/<pid>/stat, differs from the one recorded). A stale lock, such as
 * one left by a SIGKILLed process, is taken over; a lock from another host
 * cannot be checked from here and is never taken over.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { basename, join, relative, isAbsolute } from 'node:path';
import { DatabaseUnavailableError } from './database.ts';

export const LOCK_FILE = 'recap.lock';

/** What the lock file records about its holder. */
interface LockHolder {
  pid: number;
  hostname: string;
  /** When the lock was taken (ISO 8601). */
  startedAt: string;
  /** How the holder was started, for people: `npm start`, `recap migrate`. */
  command: string;
  /** The kernel's start time of the pid (clock ticks since boot), where /proc has it: tells a reused pid apart. */
  processStart: string | null;
  /** Distinguishes this lock from any other lock the same process takes. */
  token: string;
}

export class DatabaseInUseError extends DatabaseUnavailableError {
  constructor(
    message: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(message);
  }
}

/** What the file system and process table look like; tests of pid reuse pass their own. */
export interface LockEnvironment {
  pid: number;
  hostname: string;
  now(): Date;
  /** true: alive; false: no such process. */
  processAlive(pid: number): boolean;
  /** The kernel's start time of `pid`, or null where it cannot be read. */
  processStart(pid: number): string | null;
}

export interface LockOptions {
  /** How this process was started; default derived from argv and npm's environment. */
  command?: string;
  /** How the directory is named in messages (default: relative to the working directory). */
  displayDir?: string;
  env?: LockEnvironment;
}

interface PgliteLock {
  readonly path: string;
  /** True when a stale lock was found and taken over. */
  readonly tookOver: LockHolder | undefined;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

const MAX_LOCK_BYTES = 4096;
/** A lock file still empty this long after it was created is a writer that died between open and write. */
const HALF_WRITTEN_GRACE_MS = 2_000;

export const systemLockEnvironment: LockEnvironment = {
  pid: process.pid,
  hostname: osHostname(),
  now: () => new Date(),
  processAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists but belongs to someone else.
      return (error as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  },
  processStart: readProcessStart,
};

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function readProcessStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock on `dir` (created if missing), or throws DatabaseInUseError
 * naming the holder. The lock is released by `release()` and, should the
 * process exit without it, by an exit handler.
 */
export function acquirePgliteLock(dir: string, options: LockOptions = {}): PgliteLock {
  const env = options.env ?? systemLockEnvironment;
  const display = options.displayDir ?? displayPath(dir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: env.pid,
    hostname: env.hostname,
    startedAt: env.now().toISOString(),
    command: clean(options.command ?? describeThisProcess()),
    processStart: env.processStart(env.pid),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(me)}\n`;
  let tookOver: LockHolder | undefined;

  // A few rounds: each round either creates the file, or removes a stale one and tries again.
  for (let round = 0; round < 5; round++) {
    if (tryCreate(path, content)) {
      return lockHandle(path, me.token, tookOver);
    }
    const found = readLock(path);
    if (found === 'missing') continue;
    const verdict = judge(found, env);
    if (verdict.stale) {
      if (removeIfUnchanged(path, found.raw)) tookOver = found.holder;
      continue;
    }
    throw new DatabaseInUseError(inUseMessage(display, found.holder, verdict.reason, env, path), found.holder);
  }
  throw new DatabaseInUseError(`the embedded database in ${display} is being locked and unlocked by other processes; try again`, undefined);
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } catch (error) {
    // A lock nobody can read would hold others off until it looks abandoned: better none.
    closeSync(fd);
    unlinkQuietly(path);
    throw error;
  }
  closeSync(fd);
  return true;
}

type FoundLock = { raw: string; holder: LockHolder | undefined; ageMs: number | undefined };

function readLock(path: string): FoundLock | 'missing' {
  let raw: string;
  let ageMs: number | undefined;
  try {
    raw = readFileSync(path, 'utf8').slice(0, MAX_LOCK_BYTES);
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  return { raw, holder: parseHolder(raw), ageMs };
}

/** The file is written by processes of this program, but anyone with access to the directory could edit it: read it defensively. */
export function parseHolder(raw: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.pid !== 'number' || !Number.isSafeInteger(v.pid) || v.pid <= 0) return undefined;
  return {
    pid: v.pid,
    hostname: typeof v.hostname === 'string' ? clean(v.hostname) : '',
    startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
    command: typeof v.command === 'string' ? clean(v.command) : '',
    processStart: typeof v.processStart === 'string' ? v.processStart : null,
    token: typeof v.token === 'string' ? v.token : '',
  };
}

type Verdict = { stale: true } | { stale: false; reason: 'alive' | 'other-host' | 'unreadable' };

function judge(found: FoundLock, env: LockEnvironment): Verdict {
  const holder = found.holder;
  if (holder === undefined) {
    // Empty or garbled: either a writer between open and write, or one that died there.
    return found.raw.trim() === '' && !olderThan(found, HALF_WRITTEN_GRACE_MS) ? { stale: false, reason: 'unreadable' } : { stale: true };
  }
  if (holder.hostname !== env.hostname) return { stale: false, reason: 'other-host' };
  if (holder.pid === env.pid) {
    // This very process holds it (a second open in one process): not stale, unless our pid was reused.
    return holder.processStart !== null && holder.processStart !== env.processStart(env.pid) ? { stale: true } : { stale: false, reason: 'alive' };
  }
  if (!env.processAlive(holder.pid)) return { stale: true };
  const start = env.processStart(holder.pid);
  if (holder.processStart !== null && start !== null && start !== holder.processStart) return { stale: true };
  return { stale: false, reason: 'alive' };
}

function olderThan(found: FoundLock, ms: number): boolean {
  return found.ageMs !== undefined && found.ageMs > ms;
}

/**
 * Removes a stale lock only if the file still holds what was judged stale:
 * renamed aside first (atomic), then compared; a lock another process took in
 * between is put back.
 */
function removeIfUnchanged(path: string, staleRaw: string): boolean {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8').slice(0, MAX_LOCK_BYTES);
  } catch {
    // Unreadable after the rename: treat as what we judged.
    moved = staleRaw;
  }
  if (moved === staleRaw) {
    unlinkQuietly(aside);
    return true;
  }
  // Someone took over and locked between our read and our rename: give it back.
  try {
    linkSync(aside, path);
  } catch {
    // Yet another process locked meanwhile; it holds the lock now.
  }
  unlinkQuietly(aside);
  return false;
}

function lockHandle(path: string, token: string, tookOver: LockHolder | undefined): PgliteLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Only our own file: a lock taken over from us (we were judged stale) is not ours to remove.
    const found = readLock(path);
    if (found !== 'missing' && found.holder?.token === token) unlinkQuietly(path);
  };
  process.on('exit', release);
  return { path, tookOver, release };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function inUseMessage(display: string, holder: LockHolder | undefined, reason: string, env: LockEnvironment, path: string): string {
  const where = `the embedded database in ${display}`;
  const advice = 'stop it, or set DATABASE_URL to share a Postgres server';
  if (holder === undefined) return `${where} is being locked by another process right now (${displayPath(path)}); try again`;
  const since = sinceText(holder.startedAt, env.now());
  const what = [holder.command, since].filter((x) => x !== '').join(', ');
  const who = `process ${holder.pid}${what === '' ? '' : ` (${what})`}`;
  if (reason === 'other-host') {
    return `${where} is in use by ${who} on host ${holder.hostname || 'unknown'}; ${advice} (if that process is gone, delete ${displayPath(path)})`;
  }
  return `${where} is in use by ${who}; ${advice}`;
}

function sinceText(iso: string, now: Date): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const time = at.toISOString().slice(11, 16);
  const sameDay = at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10);
  return `since ${sameDay ? '' : `${at.toISOString().slice(0, 10)} `}${time} UTC`;
}

/** `npm start`, `npm run recap -- migrate`, or the script and its arguments. */
function describeThisProcess(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  const args = argv.slice(2).join(' ');
  const event = env.npm_lifecycle_event;
  if (event === 'start') return 'npm start';
  if (event !== undefined && event !== '') return `npm run ${event}${args === '' ? '' : ` -- ${args}`}`;
  const script = argv[1] === undefined ? 'node' : basename(argv[1]);
  return `${script}${args === '' ? '' : ` ${args}`}`;
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : `./${rel}`;
}

/** Control characters and length bounded: the text ends up in a terminal line. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 120);
}

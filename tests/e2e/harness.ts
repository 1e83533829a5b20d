/**
 * End-to-end harness: the real bot process (`node --import tsx src/main.ts`,
 * as `npm start` runs it) against the Discord and GitHub emulators and a
 * fresh database, driven only as members would drive it.
 *
 *   const e2e = await startE2E({ env: { ANTHROPIC_BASE_URL: … } });
 *   const { world } = e2e;
 *   e2e.github.createRepo('acme/prompts', { files: { … } });
 *   const { handle, reply } = await e2e.runCommand(world.admin.id, 'prompt-config', {
 *     subcommand: 'set', options: { repo_url: 'acme/prompts' },
 *   });
 *   const click = e2e.click(world.admin.id, handle, 'prompt-config:…');
 *   expect(e2e.leaksOf(secret)).toEqual([]);
 *   expect(e2e.unanswered()).toEqual([]);
 *   await e2e.close();              // SIGTERM, expects exit code 0, closes emulators, drops the database
 *
 * World: a guild with a category (`projects`) holding `#general` (with a
 * thread `planning`) and `#staff`; `admin` has Manage Server, `member` is a
 * plain member, `restricted` is a plain member who cannot see `#staff`.
 * The guild owner exists too (`owner`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parse as parseDotenv } from 'dotenv';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import type { Database } from '../../src/db/schema.ts';
import {
  startDiscordEmulator,
  type ApiMessage,
  type DiscordEmulator,
  type DiscordEmulatorOptions,
  type InteractionHandle,
  type StoredChannel,
  type StoredGuild,
  type StoredUser,
} from '../emulators/discord/server.ts';
import { GitHubEmulator, type GitHubEmulatorOptions } from '../emulators/github/server.ts';
import { createPostgresDatabase, silentLogger } from '../helpers/databases.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const BOT_TOKEN = `e2e-bot-token-${randomBytes(12).toString('hex')}`;

// ---------------------------------------------------------------------------
// The bot process

export interface LogLine {
  stream: 'stdout' | 'stderr';
  raw: string;
  /** The parsed pino line (LOG_FORMAT=json), when the line is JSON. */
  json: Record<string, unknown> | undefined;
  /** `json.msg`, or the raw line. */
  msg: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running `src/main.ts`, with every line it printed. */
export class BotProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    /** The environment it was started with (reuse it to start a second process). */
    readonly env: Readonly<Record<string, string>>,
  ) {
    for (const stream of ['stdout', 'stderr'] as const) {
      let pending = '';
      child[stream]?.setEncoding('utf8');
      child[stream]?.on('data', (chunk: string) => {
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          this.#push(stream, pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      });
      child[stream]?.on('end', () => {
        if (pending !== '') this.#push(stream, pending);
        pending = '';
      });
    }
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolveExit({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The HTTP server's URL, from the "recap-bot is running" line. */
  get httpUrl(): string | undefined {
    const line = this.lines.find((l) => l.msg === 'recap-bot is running');
    const url = line?.json?.['http'];
    return typeof url === 'string' ? url : undefined;
  }

  /** Waits for "recap-bot is running" (HTTP listening, Discord connected if a token was given); returns the HTTP URL. */
  async ready(timeoutMs = 45_000): Promise<string> {
    const line = await this.waitForLog((l) => l.msg === 'recap-bot is running', timeoutMs, 'the "recap-bot is running" log line');
    const url = line.json?.['http'];
    if (typeof url !== 'string') throw new Error(`"recap-bot is running" carried no http URL: ${line.raw}`);
    return url;
  }

  /** Everything printed so far, one line each. */
  output(): string {
    return this.lines.map((l) => l.raw).join('\n');
  }

  /** The first line (already printed or still to come) that matches; fails early if the process exits. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000, what = 'a matching log line'): Promise<LogLine> {
    return new Promise((resolveLine, reject) => {
      const check = (): boolean => {
        const found = this.lines.find(predicate);
        if (found !== undefined) {
          done();
          resolveLine(found);
          return true;
        }
        if (this.#exit !== undefined) {
          done();
          reject(new Error(`bot process exited (${describeExit(this.#exit)}) before ${what}; last output:\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last output:\n${this.tail()}`));
      }, timeoutMs);
      const listener = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(listener);
      };
      if (!check()) this.#waiters.add(listener);
    });
  }

  /** Lines at `level` or above (pino numbers: 40 warn, 50 error, 60 fatal). */
  linesAtLeast(level: number): LogLine[] {
    return this.lines.filter((l) => typeof l.json?.['level'] === 'number' && (l.json['level'] as number) >= level);
  }

  /** SIGTERM, then waits for the exit; throws unless it exits with code 0. */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (this.#exit === undefined) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const exit = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (exit === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`bot process did not exit within ${timeoutMs} ms of SIGTERM; last output:\n${this.tail()}`);
    }
    if (exit.code !== 0) throw new Error(`bot process exited with ${describeExit(exit)} after SIGTERM; last output:\n${this.tail()}`);
    return exit;
  }

  /** Cleanup after a failed test: no questions asked. */
  kill(): void {
    if (this.#exit === undefined) this.child.kill('SIGKILL');
  }

  tail(count = 30): string {
    return this.lines
      .slice(-count)
      .map((l) => `  [${l.stream}] ${l.raw}`)
      .join('\n');
  }

  #push(stream: LogLine['stream'], raw: string): void {
    let json: Record<string, unknown> | undefined;
    if (raw.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    this.lines.push({ stream, raw, json, msg: typeof json?.['msg'] === 'string' ? json['msg'] : raw });
    this.#notify();
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function describeExit(exit: ExitInfo): string {
  return exit.signal === null ? `code ${String(exit.code)}` : `signal ${exit.signal}`;
}

/** Variables of the developer's own shell or `.env` that must not leak into a test run. */
function isolatedBaseEnv(): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'NODE_ENV') continue;
    base[key] = value;
  }
  // An empty value counts as unset for the bot, and real variables win over `.env`.
  const dotenv = join(REPO_ROOT, '.env');
  if (existsSync(dotenv)) for (const key of Object.keys(parseDotenv(readFileSync(dotenv)))) base[key] = '';
  return base;
}

/** Starts `node --import tsx src/main.ts` in the repository root, as `npm start` does. */
export function spawnBotProcess(env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new BotProcess(child, env);
}

// ---------------------------------------------------------------------------
// The database

export interface E2EDatabase {
  kind: 'postgres' | 'pglite';
  /** Postgres: the throwaway database's URL (give it to a second process). */
  url: string | undefined;
  /** PGlite: the DATA_DIR the bot uses. */
  dataDir: string | undefined;
  /**
   * The database the bot writes. Postgres: open at any time. PGlite allows
   * one process at a time, so only after the bot stopped.
   */
  open(): Promise<Kysely<Database>>;
}

interface DatabaseResources extends E2EDatabase {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function prepareDatabase(mode: NonNullable<StartE2EOptions['database']>, dataDir: string): Promise<DatabaseResources> {
  if (typeof mode === 'object') {
    // A database the caller owns (a private cluster for fault drills): it creates and removes it.
    let opened: DatabaseHandle | undefined;
    return {
      kind: 'postgres',
      url: mode.url,
      dataDir: undefined,
      env: { DATABASE_URL: mode.url, DATA_DIR: dataDir },
      open: async () => {
        opened ??= await openDatabase({ url: mode.url, dataDir, poolMax: 2, logger: silentLogger });
        return opened.db;
      },
      dispose: async () => {
        await opened?.close().catch(() => undefined);
      },
    };
  }
  if (mode === 'auto' && inject('postgresUrl') !== '') {
    const created = await createPostgresDatabase();
    return {
      kind: 'postgres',
      url: created.url,
      dataDir: undefined,
      env: { DATABASE_URL: created.url, DATA_DIR: dataDir },
      open: async () => created.handle.db,
      dispose: () => created.drop(),
    };
  }
  // A migrated template unpacked into the data dir spares the bot seconds of initdb.
  const template = readFileSync(inject('pgliteTemplate'));
  const seeded = await PGlite.create({ dataDir: join(dataDir, 'pglite'), loadDataDir: new Blob([template]) });
  await seeded.close();
  let opened: DatabaseHandle | undefined;
  return {
    kind: 'pglite',
    url: undefined,
    dataDir,
    env: { DATABASE_URL: '', DATA_DIR: dataDir },
    open: async () => {
      opened ??= await openDatabase({ dataDir, poolMax: 1, logger: silentLogger });
      return opened.db;
    },
    dispose: async () => {
      await opened?.close().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------
// The world and the harness

export interface E2EWorld {
  guild: StoredGuild;
  owner: StoredUser;
  /** Has Manage Server (and nothing else beyond @everyone). */
  admin: StoredUser;
  member: StoredUser;
  /** A plain member denied View Channel on `#staff`. */
  restricted: StoredUser;
  category: StoredChannel;
  general: StoredChannel;
  thread: StoredChannel;
  staff: StoredChannel;
}

export interface StartE2EOptions {
  /** Extra environment for the bot process (e.g. ANTHROPIC_BASE_URL); wins over the harness's. */
  env?: Record<string, string>;
  /** `auto` (default): real Postgres when the test setup found one, else PGlite; `{ url }`: a database the caller owns. */
  database?: 'auto' | 'pglite' | { url: string };
  discord?: DiscordEmulatorOptions;
  /** Default: quotas high enough that no test runs into GitHub's 60 anonymous requests an hour. */
  github?: GitHubEmulatorOptions;
  /** Build more of the Discord world before the bot connects. */
  setup?: (discord: DiscordEmulator, world: E2EWorld) => void;
  /** Start-up budget: process, database, gateway, command registration (default 45 s). */
  startTimeoutMs?: number;
}

export interface CommandSpec {
  subcommand?: string;
  group?: string;
  options?: Record<string, string | number | boolean>;
  /** Default `#general`. */
  channelId?: string;
  /** A message context-menu command, used on this message (in `channelId`). */
  targetMessageId?: string;
}

export interface E2E {
  discord: DiscordEmulator;
  github: GitHubEmulator;
  world: E2EWorld;
  /** The bot process started by startE2E. */
  bot: BotProcess;
  /** Every bot process this harness started (bot first). */
  processes: readonly BotProcess[];
  database: E2EDatabase;
  /** RECAP_MASTER_KEYS given to the bot (a fresh key per run). */
  masterKeys: string;
  /** The environment `bot` was started with (the caller's extras included); spawnBot starts from it. */
  env: Readonly<Record<string, string>>;

  /** Sends a slash command as `userId` (the emulator refuses what that member could not do). */
  command(userId: string, name: string, spec?: CommandSpec): InteractionHandle;
  /** Sends a command and waits for its final (not "thinking…") reply. */
  runCommand(userId: string, name: string, spec?: CommandSpec, timeoutMs?: number): Promise<{ handle: InteractionHandle; reply: ApiMessage }>;
  /** Clicks a button on the original message of `on` (or on a message). */
  click(userId: string, on: InteractionHandle | ApiMessage, customId: string): InteractionHandle;
  /**
   * Submits the modal `from` showed, with text input values by custom id; or,
   * given `{ customId }`, a crafted submit of a modal nobody was shown (in #general).
   */
  submitModal(userId: string, from: InteractionHandle | { customId: string }, fields: Record<string, string>): InteractionHandle;
  /** Autocomplete for `focused` (typed value in `options[focused]`); resolves to the offered values. */
  autocomplete(userId: string, name: string, spec: CommandSpec & { focused: string }): Promise<string[]>;
  /** The custom ids of the buttons on a message. */
  buttonsOf(message: ApiMessage): Array<{ customId: string; label: string; disabled: boolean }>;

  /**
   * Where `secret` shows up in anything the bot produced: every line the
   * bot processes printed, every REST request body the bot sent to Discord,
   * every interaction answer, follow-up and uploaded file. (Member-sent
   * interaction payloads are not the bot's output and are not scanned.)
   */
  leaksOf(secret: string): string[];
  /** Interactions with no answer, or deferred and never completed. */
  unanswered(): InteractionHandle[];

  /**
   * Starts another bot process (same database, keys and emulators); `env`
   * overrides. Await `ready()` on it. With PGlite only one process can open
   * the database, so two-process tests need real Postgres (database.kind).
   */
  spawnBot(env?: Record<string, string>): BotProcess;
  /** Stops every bot process (each must exit 0), closes the emulators and drops the database. */
  close(): Promise<void>;
}

const REGISTRATION_PATH = /^\/applications\/\d+\/guilds\/(\d+)\/commands$/;
const GLOBAL_REGISTRATION_PATH = /^\/applications\/\d+\/commands$/;

export async function startE2E(options: StartE2EOptions = {}): Promise<E2E> {
  const startTimeoutMs = options.startTimeoutMs ?? 45_000;
  const cleanups: Array<() => Promise<void> | void> = [];
  const processes: BotProcess[] = [];
  const cleanupAll = async (): Promise<void> => {
    for (const p of processes) p.kill();
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };

  try {
    const discord = await startDiscordEmulator({ botToken: BOT_TOKEN, ...options.discord });
    cleanups.push(() => discord.close());
    const github = new GitHubEmulator({ quota: { anonymous: 100_000, authenticated: 100_000 }, ...options.github });
    await github.start();
    cleanups.push(() => github.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'recap-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const database = await prepareDatabase(options.database ?? 'auto', dataDir);
    cleanups.push(() => database.dispose());

    const world = buildWorld(discord);
    options.setup?.(discord, world);
    const masterKeys = `e2e:${randomBytes(32).toString('base64')}`;
    const env: Record<string, string> = {
      ...isolatedBaseEnv(),
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_DEV_GUILD_ID: world.guild.id,
      DISCORD_REGISTER_COMMANDS: 'true',
      GITHUB_API_URL: github.baseUrl,
      RECAP_MASTER_KEYS: masterKeys,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      ...database.env,
      ...options.env,
    };

    const bot = spawnBotProcess(env);
    processes.push(bot);
    await Promise.all([
      bot.waitForLog((l) => l.msg === 'connected to Discord', startTimeoutMs, 'the "connected to Discord" log line'),
      raceExit(
        bot,
        // To the world's guild; globally when the caller unset DISCORD_DEV_GUILD_ID.
        discord.waitForRequest(
          (r) =>
            r.method === 'PUT' &&
            r.status === 200 &&
            (env['DISCORD_DEV_GUILD_ID'] === '' ? GLOBAL_REGISTRATION_PATH.test(r.path) : REGISTRATION_PATH.exec(r.path)?.[1] === world.guild.id),
          startTimeoutMs,
        ),
        'command registration',
      ),
    ]);
    // Printed once start() returned: the HTTP URL is known from here on.
    await bot.ready(startTimeoutMs);

    const command = (userId: string, name: string, spec: CommandSpec = {}): InteractionHandle =>
      discord.sendInteraction({
        type: 'command',
        userId,
        name,
        channelId: spec.channelId ?? world.general.id,
        ...(spec.subcommand === undefined ? {} : { subcommand: spec.subcommand }),
        ...(spec.group === undefined ? {} : { group: spec.group }),
        ...(spec.options === undefined ? {} : { options: spec.options }),
        ...(spec.targetMessageId === undefined ? {} : { commandType: 'message' as const, targetId: spec.targetMessageId }),
      });

    const e2e: E2E = {
      discord,
      github,
      world,
      bot,
      processes,
      database,
      masterKeys,
      env,
      command,
      async runCommand(userId, name, spec, timeoutMs = 15_000) {
        const handle = command(userId, name, spec);
        const reply = await handle.waitForFinal(() => true, timeoutMs);
        return { handle, reply };
      },
      click(userId, on, customId) {
        return discord.sendInteraction({ type: 'button', userId, customId, message: on });
      },
      submitModal(userId, from, fields) {
        if ('customId' in from) return discord.sendInteraction({ type: 'modal-submit', userId, channelId: world.general.id, customId: from.customId, fields });
        return discord.sendInteraction({ type: 'modal-submit', userId, from, fields });
      },
      async autocomplete(userId, name, spec) {
        const handle = discord.sendInteraction({
          type: 'autocomplete',
          userId,
          name,
          focused: spec.focused,
          channelId: spec.channelId ?? world.general.id,
          ...(spec.subcommand === undefined ? {} : { subcommand: spec.subcommand }),
          ...(spec.group === undefined ? {} : { group: spec.group }),
          ...(spec.options === undefined ? {} : { options: spec.options }),
        });
        const choices = await handle.waitForChoices(15_000);
        return choices.map((c) => String(c['value']));
      },
      buttonsOf(message) {
        const out: Array<{ customId: string; label: string; disabled: boolean }> = [];
        const walk = (components: unknown): void => {
          if (!Array.isArray(components)) return;
          for (const c of components as Array<Record<string, unknown>>) {
            if (c['type'] === 2 && typeof c['custom_id'] === 'string') {
              out.push({ customId: c['custom_id'], label: String(c['label'] ?? ''), disabled: c['disabled'] === true });
            }
            walk(c['components']);
          }
        };
        walk(message.components);
        return out;
      },
      leaksOf(secret) {
        return findLeaks(secret, processes, discord);
      },
      unanswered() {
        return discord.interactions.filter((h) => !isAnswered(h));
      },
      spawnBot(overrides = {}) {
        const extra = spawnBotProcess({ ...env, ...overrides });
        processes.push(extra);
        return extra;
      },
      async close() {
        const failures: string[] = [];
        for (const p of processes) {
          if (!p.running) continue;
          try {
            await p.stop();
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
        await cleanupAll();
        if (failures.length > 0) throw new Error(failures.join('\n\n'));
      },
    };
    return e2e;
  } catch (error) {
    const detail = processes[0] === undefined ? '' : `\nbot output:\n${processes[0].tail(50)}`;
    await cleanupAll();
    throw error instanceof Error ? new Error(`${error.message}${detail}`, { cause: error }) : error;
  }
}

function buildWorld(discord: DiscordEmulator): E2EWorld {
  const guild = discord.addGuild({ name: 'e2e-guild' });
  const owner = discord.state.user(guild.ownerId);
  const admin = discord.addUser({ username: 'admin' });
  discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
  const member = discord.addUser({ username: 'member' });
  discord.addMember(guild.id, member.id);
  const restricted = discord.addUser({ username: 'restricted' });
  discord.addMember(guild.id, restricted.id);
  const category = discord.addChannel(guild.id, { kind: 'category', name: 'projects' });
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general', parentId: category.id });
  const thread = discord.addChannel(guild.id, { kind: 'thread', name: 'planning', parentId: general.id, ownerId: member.id });
  const staff = discord.addChannel(guild.id, {
    kind: 'text',
    name: 'staff',
    parentId: category.id,
    overwrites: [{ id: restricted.id, type: 'member', deny: ['ViewChannel'] }],
  });
  return { guild, owner, admin, member, restricted, category, general, thread, staff };
}

/** A wait that fails at once, with the bot's output, when the bot process dies first. */
async function raceExit<T>(bot: BotProcess, wait: Promise<T>, what: string): Promise<T> {
  const died = bot.exited.then((exit) => {
    throw new Error(`bot process exited (${describeExit(exit)}) before ${what}; last output:\n${bot.tail()}`);
  });
  return Promise.race([wait, died]);
}

/** Answered: a callback, and (after a defer) a completed message. */
function isAnswered(handle: InteractionHandle): boolean {
  if (!handle.acknowledged) return false;
  const last = handle.originalHistory[handle.originalHistory.length - 1];
  if (last === undefined || !last.pending) return true;
  return handle.followUps.length > 0;
}

function findLeaks(secret: string, processes: readonly BotProcess[], discord: DiscordEmulator): string[] {
  if (secret === '') throw new Error('leaksOf: an empty secret matches everything');
  const found: string[] = [];
  processes.forEach((p, i) => {
    for (const line of p.lines) if (line.raw.includes(secret)) found.push(`process ${i} ${line.stream}: ${line.raw.slice(0, 200)}`);
  });
  for (const request of discord.requests) {
    if (JSON.stringify({ path: request.path, query: request.query, body: request.body }).includes(secret)) {
      found.push(`Discord request #${request.seq} ${request.method} ${request.path}`);
    }
  }
  for (const handle of discord.interactions) {
    const answers = JSON.stringify({
      callback: handle.callback?.data,
      original: handle.originalHistory.map((s) => s.message),
      followUps: handle.followUps.map((f) => f.history.map((h) => h.message)),
    });
    if (answers.includes(secret)) found.push(`answer to interaction ${handle.id} (${handle.kind})`);
    for (const file of handle.files) {
      if (file.content.includes(secret)) found.push(`file ${file.filename} sent for interaction ${handle.id}`);
    }
  }
  for (const message of discord.botMessages) {
    if (JSON.stringify(message).includes(secret)) found.push(`bot message ${message.id} in ${message.channel_id}`);
  }
  return found;
}

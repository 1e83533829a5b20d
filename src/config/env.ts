import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { parseDuration } from '../conversation/duration.ts';
import { parseShardIds } from './shard-ids.ts';
import { Secret } from './secret.ts';

/**
 * The prompts shipped with the program, found from this file so that they are
 * found whatever the working directory (an installed `recap`): <repo>/prompts
 * from the sources, dist/prompts (copied by the build) from dist/src/config.
 */
const BUNDLED_PROMPTS_DIR = resolve(import.meta.dirname, '..', '..', 'prompts');

/**
 * Every setting comes from the environment (and `.env` when present),
 * validated once at start-up. An empty value counts as unset, as in a `.env`
 * file with `KEY=`, so operators can blank a line instead of deleting it.
 */

const emptyAsUnset = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** An unset or empty variable takes `fallback`; anything else must pass `inner`. */
const withDefault = <T extends z.ZodType>(inner: T, fallback: z.input<T>) =>
  z.preprocess((value) => emptyAsUnset(value) ?? fallback, inner);

const port = z.coerce
  .number({ error: 'expected a port number from 0 to 65535' })
  .int('expected a whole port number from 0 to 65535')
  .min(0, 'expected a port number from 0 to 65535')
  .max(65535, 'expected a port number from 0 to 65535');

const positiveInt = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).int(`expected ${what}`).positive(`expected ${what}`);

const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const lower = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
    return v;
  },
  z.boolean({ error: 'expected true or false' }),
);

const secret = z.preprocess(emptyAsUnset, z.string().transform((v) => new Secret(v)).optional());

const postgresUrl = z.preprocess(
  emptyAsUnset,
  z
    .string()
    .refine((v) => {
      try {
        return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, 'expected a connection URL like postgres://user:password@host:5432/database')
    .optional(),
);

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value, { max: 365 * 86_400_000 });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 15m, 2h or 7d (${(error as Error).message})` });
    return z.NEVER;
  }
});

const httpUrl = (what: string) =>
  z.string().refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected ${what}`);

/** Discord's own ceiling is far below this; it only bounds what a typo can make us allocate. */
const MAX_SHARDS = 10_000;

const schema = z.object({
  HTTP_PORT: withDefault(port, 8080),
  HTTP_HOST: withDefault(z.string(), '0.0.0.0'),
  HTTP_MAX_CONNECTIONS: withDefault(positiveInt('a number of connections'), 512),
  HTTP_BODY_BUDGET_KB: withDefault(positiveInt('a size in KiB'), 16 * 1024),
  HTTP_TIMEOUT_MS: withDefault(positiveInt('a timeout in milliseconds'), 10_000),
  DATA_DIR: withDefault(z.string(), './data'),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_MAX: withDefault(positiveInt('a positive whole number of connections'), 10),
  DATABASE_MIGRATE_ON_START: withDefault(bool, true),
  RECAP_MASTER_KEYS: secret,
  LOG_LEVEL: withDefault(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        error: 'expected one of trace, debug, info, warn, error, fatal, silent',
      }),
    ),
    'info',
  ),
  GITHUB_API_URL: withDefault(httpUrl('an http(s) URL such as https://api.github.com'), 'https://api.github.com'),
  GITHUB_APP_ID: z.preprocess(emptyAsUnset, positiveInt('the numeric id of a GitHub App').optional()),
  GITHUB_APP_PRIVATE_KEY: secret,
  GITHUB_ENTERPRISE_HOSTS: withDefault(
    z.string().transform((v) => v.split(/[\s,]+/).map((h) => h.trim().toLowerCase()).filter((h) => h !== '')),
    '',
  ),
  GITHUB_WEBHOOK_SECRET: secret,
  RECAP_STATUS_TOKEN: z.preprocess(
    emptyAsUnset,
    z.string().min(16, 'expected a token of at least 16 characters (e.g. `openssl rand -hex 32`)').transform((v) => new Secret(v)).optional(),
  ),
  GITHUB_WEBHOOK_MAX_BODY_KB: withDefault(positiveInt('a size in KiB'), 1024),
  GITHUB_WEBHOOK_MAX_ATTEMPTS: withDefault(positiveInt('a number of attempts'), 8),
  GITHUB_WEBHOOK_LEASE: withDefault(duration, '60s'),
  GITHUB_REQUEST_TIMEOUT_MS: withDefault(positiveInt('a timeout in milliseconds'), 5_000),
  GITHUB_REFRESH_BUDGET_MS: withDefault(positiveInt('a time budget in milliseconds'), 2_500),
  PROMPTS_DIR: withDefault(z.string(), BUNDLED_PROMPTS_DIR),
  PROMPT_CACHE_TTL: withDefault(duration, '15m'),
  PROMPT_MAX_STALE: withDefault(duration, '7d'),
  PROMPT_CACHE_TTL_WEBHOOK: withDefault(duration, '6h'),
  PROMPT_CACHE_MAX_MB: withDefault(positiveInt('a size in MiB'), 256),
  PROMPT_REFRESH_BUDGET: withDefault(duration, '30s'),
  PROMPT_MAX_FILES: withDefault(positiveInt('a number of files'), 2_000),
  PROMPT_MAX_SNAPSHOT_MB: withDefault(positiveInt('a size in MiB'), 10),
  PROMPT_MAX_FILE_KB: withDefault(positiveInt('a size in KiB'), 50),
  PROMPT_MAX_ROUTES: withDefault(positiveInt('a number of routes'), 500),
  DISCORD_TOKEN: secret,
  SUMMARY_RETENTION_DAYS: withDefault(positiveInt('a number of days (1 or more)').max(36_500, 'expected at most 36500 days'), 90),
  DISCORD_API_URL: z.preprocess(emptyAsUnset, httpUrl('an http(s) URL ending in /api, such as https://discord.com/api').optional()),
  DISCORD_DEV_GUILD_ID: z.preprocess(emptyAsUnset, z.string().regex(/^\d{15,22}$/, 'expected a guild id (a number of 15-22 digits)').optional()),
  DISCORD_REGISTER_COMMANDS: withDefault(bool, true),
  SHARDS: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v),
    z.union([z.literal('auto'), positiveInt('auto or a number of shards (1 or more)')], { error: 'expected auto or a number of shards (1 or more)' }).optional(),
  ),
  SHARD_IDS: z.preprocess(emptyAsUnset, z.string().optional()),
  SHARD_COUNT: z.preprocess(
    emptyAsUnset,
    positiveInt('the total number of shards across every host (1 or more)').max(MAX_SHARDS, `expected at most ${MAX_SHARDS} shards`).optional(),
  ),
  RECAP_ROLE: withDefault(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(['all', 'web', 'shards'], {
        error: 'expected all (HTTP and Discord), web (HTTP, webhooks and the API; no Discord) or shards (Discord shards; HTTP for health and metrics only)',
      }),
    ),
    'all',
  ),
  SHARD_SPAWN_DELAY_MS: withDefault(
    z.coerce.number({ error: 'expected a delay in milliseconds' }).int('expected a whole number of milliseconds').min(0, 'expected a delay in milliseconds (0 or more)'),
    5_500,
  ),
  LOG_FORMAT: withDefault(z.enum(['auto', 'json', 'pretty'], { error: 'expected auto, json or pretty' }), 'auto'),
  GITHUB_APP_SLUG: z.preprocess(emptyAsUnset, z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/, 'expected the App\'s URL name, as in https://github.com/apps/<slug>').optional()),
  GITHUB_APP_CLIENT_ID: z.preprocess(emptyAsUnset, z.string().trim().regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected the App\'s client id (e.g. Iv23li…)').optional()),
  GITHUB_APP_CLIENT_SECRET: secret,
  PUBLIC_URL: z.preprocess(emptyAsUnset, httpUrl('the bot\'s public base URL, such as https://recap.example.com').optional()),
});

export type RawEnv = z.output<typeof schema>;

export interface Config {
  http: {
    port: number;
    host: string;
    maxConnections: number;
    /** Bytes of unauthenticated request bodies held at once, across all requests. */
    bodyBudgetBytes: number;
    /** Headers, and then the body, must each arrive within this. */
    timeoutMs: number;
    /** Where the internet reaches this deployment's HTTP server (PUBLIC_URL), for URLs the bot hands out. */
    publicUrl: URL | undefined;
    /** RECAP_STATUS_TOKEN: the bearer token `GET /status` requires; unset, the route does not exist. */
    statusToken: Secret | undefined;
  };
  dataDir: string;
  database: {
    /** Unset means embedded PGlite under `dataDir`. */
    url: Secret | undefined;
    poolMax: number;
    migrateOnStart: boolean;
  };
  masterKeys: Secret | undefined;
  github: {
    apiUrl: string;
    app: { id: number; privateKey: Secret } | undefined;
    /** GitHub's web host (https://github.com, or the Enterprise host of apiUrl): install links and the OAuth code exchange. */
    webUrl: string;
    /**
     * What linking an App installation to a guild needs (the install link and
     * the user authorization that proves an admin of the account approved).
     * Unset: no installation can be linked, so the App reads no guild's repository.
     */
    appInstall: { slug: string; clientId: string; clientSecret: Secret } | undefined;
    /** GitHub Enterprise hosts (`host[:port]`) guild admins may name; github.com is always allowed. */
    enterpriseHosts: string[];
    /** Signed push webhooks; unset, POST /webhooks/github answers 503. */
    webhookSecret: Secret | undefined;
    webhookMaxBodyBytes: number;
    /** Processing attempts per delivery, a crash during one included; then it is `failed`. */
    webhookMaxAttempts: number;
    /** How long a process holds a delivery it took; after a crash, others take it once this ends. */
    webhookLeaseMs: number;
    requestTimeoutMs: number;
    refreshBudgetMs: number;
  };
  prompts: {
    /** The bundled prompt repo (levels 3 of resolution). */
    dir: string;
    ttlMs: number;
    /** The TTL of repositories whose pushes arrive as signed webhooks. */
    webhookTtlMs: number;
    maxStaleMs: number;
    cacheMaxBytes: number;
    /** A refresh of one repository (set, refresh, webhooks, the background) may take this long. */
    refreshBudgetMs: number;
    limits: { maxFiles: number; snapshotBytes: number; promptBytes: number; maxRoutes: number };
  };
  discord: {
    /** Unset: the Discord client stays off and only HTTP (and the CLI) work. */
    token: Secret | undefined;
    apiUrl: string | undefined;
    devGuildId: string | undefined;
    registerCommands: boolean;
  };
  log: { level: RawEnv['LOG_LEVEL']; format: RawEnv['LOG_FORMAT'] };
  /** Summaries (and their map-reduce partials) older than this are pruned (SUMMARY_RETENTION_DAYS). */
  history: { retentionDays: number };
  /** Which part of a deployment this process is (see src/sharding/). */
  sharding: Sharding;
  /**
   * RECAP_ROLE, what this host does: `all` (HTTP with webhook intake, and
   * Discord), `web` (HTTP with webhook intake and the API; never Discord) or
   * `shards` (Discord; its HTTP port serves /healthz, /readyz and /metrics only).
   */
  role: DeploymentRole;
}

export type DeploymentRole = RawEnv['RECAP_ROLE'];

/**
 * - single: everything in one process (no SHARDS);
 * - manager: SHARDS, or SHARD_IDS of SHARD_COUNT, set: HTTP (health, metrics,
 *   and webhooks unless RECAP_ROLE=shards) here, Discord in one child process
 *   per shard this host runs;
 * - shard: a child of the manager (discord.js sets SHARDING_MANAGER, SHARDS
 *   and SHARD_COUNT for it): Discord only, no HTTP, no migrations.
 */
export type Sharding =
  | { role: 'single' }
  | {
      role: 'manager';
      /** The deployment's total (SHARDS, or SHARD_COUNT). */
      shards: 'auto' | number;
      /** SHARD_IDS: the part of `shards` this host runs; unset, every one. */
      ids?: number[];
      spawnDelayMs: number;
    }
  | { role: 'shard'; ids: number[]; count: number };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`configuration: ${variable}: ${reason}`);
  }
}

/**
 * discord.js's ShardingManager sets this (with SHARDS and SHARD_COUNT) in the
 * environment of the shard processes it starts; operators never set it.
 */
const SHARD_PROCESS_MARK = 'SHARDING_MANAGER';

/** Reads `.env` from `cwd` when present; real environment variables win over the file. */
export function environmentWithDotenv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return env;
  const fromFile = parseDotenv(readFileSync(file));
  return { ...fromFile, ...env };
}

/** Validates the environment; throws one ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // In a shard child, SHARDS and SHARD_COUNT are discord.js's (this process's shard ids, the
  // total), and SHARD_IDS is its manager's, already applied.
  const shardChild = env[SHARD_PROCESS_MARK] === 'true';
  const parsed = schema.safeParse(shardChild ? { ...env, SHARDS: undefined, SHARD_COUNT: undefined, SHARD_IDS: undefined } : env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const shown = env[variable];
    const got =
      shown !== undefined && !/KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL/.test(variable)
        ? ` (got ${JSON.stringify(shown)})`
        : '';
    throw new ConfigError(variable, `${issue?.message ?? 'invalid value'}${got}`);
  }
  const e = parsed.data;
  if (e.PROMPT_MAX_STALE < e.PROMPT_CACHE_TTL) {
    throw new ConfigError('PROMPT_MAX_STALE', 'expected a duration at least as long as PROMPT_CACHE_TTL');
  }
  const sharding = shardingFrom(e, shardChild ? env : undefined);
  return {
    http: {
      port: e.HTTP_PORT,
      host: e.HTTP_HOST,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      bodyBudgetBytes: e.HTTP_BODY_BUDGET_KB * 1024,
      timeoutMs: e.HTTP_TIMEOUT_MS,
      publicUrl: e.PUBLIC_URL === undefined ? undefined : new URL(e.PUBLIC_URL),
      statusToken: e.RECAP_STATUS_TOKEN,
    },
    dataDir: e.DATA_DIR,
    database: {
      url: e.DATABASE_URL === undefined ? undefined : new Secret(e.DATABASE_URL),
      poolMax: e.DATABASE_POOL_MAX,
      // The manager migrates before it starts the shards.
      migrateOnStart: e.DATABASE_MIGRATE_ON_START && sharding.role !== 'shard',
    },
    masterKeys: e.RECAP_MASTER_KEYS,
    github: {
      apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
      app: githubApp(e.GITHUB_APP_ID, e.GITHUB_APP_PRIVATE_KEY),
      webUrl: githubWebUrl(e.GITHUB_API_URL),
      appInstall: githubAppInstall(e),
      enterpriseHosts: e.GITHUB_ENTERPRISE_HOSTS,
      webhookSecret: e.GITHUB_WEBHOOK_SECRET,
      webhookMaxBodyBytes: e.GITHUB_WEBHOOK_MAX_BODY_KB * 1024,
      webhookMaxAttempts: e.GITHUB_WEBHOOK_MAX_ATTEMPTS,
      webhookLeaseMs: e.GITHUB_WEBHOOK_LEASE,
      requestTimeoutMs: e.GITHUB_REQUEST_TIMEOUT_MS,
      refreshBudgetMs: e.GITHUB_REFRESH_BUDGET_MS,
    },
    prompts: {
      dir: e.PROMPTS_DIR,
      ttlMs: e.PROMPT_CACHE_TTL,
      webhookTtlMs: Math.min(e.PROMPT_CACHE_TTL_WEBHOOK, e.PROMPT_MAX_STALE),
      maxStaleMs: e.PROMPT_MAX_STALE,
      cacheMaxBytes: e.PROMPT_CACHE_MAX_MB * 1024 * 1024,
      refreshBudgetMs: e.PROMPT_REFRESH_BUDGET,
      limits: {
        maxFiles: e.PROMPT_MAX_FILES,
        snapshotBytes: e.PROMPT_MAX_SNAPSHOT_MB * 1024 * 1024,
        promptBytes: e.PROMPT_MAX_FILE_KB * 1024,
        maxRoutes: e.PROMPT_MAX_ROUTES,
      },
    },
    discord: {
      token: e.DISCORD_TOKEN,
      apiUrl: e.DISCORD_API_URL?.replace(/\/+$/, ''),
      devGuildId: e.DISCORD_DEV_GUILD_ID,
      registerCommands: e.DISCORD_REGISTER_COMMANDS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    history: { retentionDays: e.SUMMARY_RETENTION_DAYS },
    sharding,
    role: e.RECAP_ROLE,
  };
}

function githubApp(id: number | undefined, key: Secret | undefined): Config['github']['app'] {
  if (id === undefined && key === undefined) return undefined;
  if (id === undefined) throw new ConfigError('GITHUB_APP_ID', 'expected the App id, because GITHUB_APP_PRIVATE_KEY is set');
  if (key === undefined) throw new ConfigError('GITHUB_APP_PRIVATE_KEY', 'expected the App private key (PEM), because GITHUB_APP_ID is set');
  // .env files often hold the PEM on one line with literal \n.
  const pem = key.reveal().replace(/\\n/g, '\n');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError('GITHUB_APP_PRIVATE_KEY', 'expected a PEM private key (-----BEGIN RSA PRIVATE KEY----- …)');
  }
  return { id, privateKey: new Secret(pem) };
}

/** github.com's API lives on api.github.com; GitHub Enterprise serves it under /api/v3 of its web host. */
export function githubWebUrl(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  if (/^https:\/\/(api\.)?github\.com$/i.test(trimmed)) return 'https://github.com';
  return trimmed.replace(/\/api\/v3$/i, '');
}

function githubAppInstall(e: RawEnv): Config['github']['appInstall'] {
  const { GITHUB_APP_SLUG: slug, GITHUB_APP_CLIENT_ID: clientId, GITHUB_APP_CLIENT_SECRET: clientSecret } = e;
  if (slug === undefined && clientId === undefined && clientSecret === undefined) return undefined;
  if (e.GITHUB_APP_ID === undefined) throw new ConfigError('GITHUB_APP_ID', 'expected the App id, because GITHUB_APP_SLUG, GITHUB_APP_CLIENT_ID or GITHUB_APP_CLIENT_SECRET is set');
  if (slug === undefined) throw new ConfigError('GITHUB_APP_SLUG', 'expected the App\'s URL name, because GITHUB_APP_CLIENT_ID or GITHUB_APP_CLIENT_SECRET is set');
  if (clientId === undefined) throw new ConfigError('GITHUB_APP_CLIENT_ID', 'expected the App\'s client id, because GITHUB_APP_SLUG or GITHUB_APP_CLIENT_SECRET is set');
  if (clientSecret === undefined) throw new ConfigError('GITHUB_APP_CLIENT_SECRET', 'expected one of the App\'s client secrets, because GITHUB_APP_SLUG or GITHUB_APP_CLIENT_ID is set');
  return { slug, clientId, clientSecret };
}

function shardingFrom(e: RawEnv, childEnv: NodeJS.ProcessEnv | undefined): Sharding {
  if (childEnv !== undefined) {
    const ids = shardIds(childEnv.SHARDS);
    const count = Number(childEnv.SHARD_COUNT);
    if (ids === undefined || !Number.isInteger(count) || count < 1) {
      throw new ConfigError('SHARDS', `expected the shard ids discord.js gives a shard process (got ${JSON.stringify(childEnv.SHARDS)} of ${JSON.stringify(childEnv.SHARD_COUNT)})`);
    }
    return { role: 'shard', ids, count };
  }
  const sharding = managerSharding(e);
  checkRole(e, sharding);
  return sharding;
}

/** SHARDS (every shard here) or SHARD_IDS of SHARD_COUNT (a part of them here), or neither. */
function managerSharding(e: RawEnv): Sharding {
  if (e.SHARD_IDS !== undefined && e.SHARDS !== undefined) {
    throw new ConfigError('SHARD_IDS', 'set either SHARDS (every shard on this host) or SHARD_IDS with SHARD_COUNT (a part of them), not both');
  }
  if (e.SHARD_IDS !== undefined && e.SHARD_COUNT === undefined) {
    throw new ConfigError('SHARD_IDS', 'needs SHARD_COUNT, the total number of shards across every host (e.g. SHARD_IDS=0-3 SHARD_COUNT=8)');
  }
  if (e.SHARD_COUNT !== undefined && e.SHARD_IDS === undefined) {
    throw new ConfigError('SHARD_COUNT', 'needs SHARD_IDS, the shards this host runs (e.g. SHARD_IDS=0-3); to run every shard here, set SHARDS instead');
  }
  const variable = e.SHARD_IDS === undefined ? 'SHARDS' : 'SHARD_IDS';
  if (e.SHARDS === undefined && e.SHARD_IDS === undefined) return { role: 'single' };
  if (e.RECAP_ROLE === 'web') {
    throw new ConfigError('RECAP_ROLE', `web runs no Discord shards; unset ${variable} on this host, or set RECAP_ROLE=shards (or all)`);
  }
  if (e.DATABASE_URL === undefined) {
    throw new ConfigError(variable, 'needs DATABASE_URL (a Postgres server the shard processes share); the embedded PGlite database belongs to one process');
  }
  if (e.DISCORD_TOKEN === undefined) throw new ConfigError(variable, 'needs DISCORD_TOKEN: the shards are Discord connections');
  if (e.SHARD_IDS === undefined || e.SHARD_COUNT === undefined) return { role: 'manager', shards: e.SHARDS ?? 'auto', spawnDelayMs: e.SHARD_SPAWN_DELAY_MS };
  const parsed = parseShardIds(e.SHARD_IDS, e.SHARD_COUNT);
  if ('reason' in parsed) throw new ConfigError('SHARD_IDS', parsed.reason);
  return { role: 'manager', shards: e.SHARD_COUNT, ids: parsed.ids, spawnDelayMs: e.SHARD_SPAWN_DELAY_MS };
}

/** RECAP_ROLE=shards is a Discord host: it needs the token, and a database it shares with the web hosts. */
function checkRole(e: RawEnv, sharding: Sharding): void {
  if (e.RECAP_ROLE !== 'shards' || sharding.role === 'manager') return;
  if (e.DISCORD_TOKEN === undefined) throw new ConfigError('RECAP_ROLE', 'shards needs DISCORD_TOKEN: a shards host is the Discord connection');
  if (e.DATABASE_URL === undefined) {
    throw new ConfigError('RECAP_ROLE', 'shards needs DATABASE_URL: a shards host serves no webhooks, so it shares a Postgres server with the web host that does');
  }
}

/** discord.js writes one id (`3`) or a JSON list (`[2,3]`). */
function shardIds(text: string | undefined): number[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  const ids = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  return ids.length > 0 && ids.every((id): id is number => Number.isInteger(id) && (id as number) >= 0) ? ids : undefined;
}

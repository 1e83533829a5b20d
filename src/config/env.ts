import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { Secret } from './secret.ts';

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

const schema = z.object({
  HTTP_PORT: withDefault(port, 8080),
  HTTP_HOST: withDefault(z.string(), '0.0.0.0'),
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
  LOG_FORMAT: withDefault(z.enum(['auto', 'json', 'pretty'], { error: 'expected auto, json or pretty' }), 'auto'),
});

export type RawEnv = z.output<typeof schema>;

export interface Config {
  http: { port: number; host: string };
  dataDir: string;
  database: {
    /** Unset means embedded PGlite under `dataDir`. */
    url: Secret | undefined;
    poolMax: number;
    migrateOnStart: boolean;
  };
  masterKeys: Secret | undefined;
  log: { level: RawEnv['LOG_LEVEL']; format: RawEnv['LOG_FORMAT'] };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`configuration: ${variable}: ${reason}`);
  }
}

/** Reads `.env` from `cwd` when present; real environment variables win over the file. */
export function environmentWithDotenv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return env;
  const fromFile = parseDotenv(readFileSync(file));
  return { ...fromFile, ...env };
}

/** Validates the environment; throws one ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = schema.safeParse(env);
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
  return {
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST },
    dataDir: e.DATA_DIR,
    database: {
      url: e.DATABASE_URL === undefined ? undefined : new Secret(e.DATABASE_URL),
      poolMax: e.DATABASE_POOL_MAX,
      migrateOnStart: e.DATABASE_MIGRATE_ON_START,
    },
    masterKeys: e.RECAP_MASTER_KEYS,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  };
}

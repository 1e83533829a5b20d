import { z } from 'zod';
import { ConfigError } from '../config/env.ts';
import { Secret } from '../config/secret.ts';

/** What the dashboard needs; undefined when DISCORD_CLIENT_ID is not set (the dashboard is off). */
export interface WebConfig {
  clientId: string;
  clientSecret: Secret;
  /** Where browsers reach this host: the OAuth redirect is `<publicUrl>/auth/callback`. */
  publicUrl: URL;
  /** Signs session and login cookies (HMAC-SHA256 / AES-GCM keys are derived from it). */
  sessionSecret: Secret;
  sessionTtlMs: number;
}

const schema = z.object({
  DISCORD_CLIENT_ID: z.string().trim().regex(/^\d{15,22}$/, 'expected the application\'s client id (a number of 15-22 digits)').optional(),
  DISCORD_CLIENT_SECRET: z.string().min(8, 'expected the OAuth2 client secret from the developer portal').optional(),
  RECAP_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected the dashboard\'s public base URL, such as https://recap.example.com' }).optional(),
  PUBLIC_URL: z.string().optional(),
  RECAP_SESSION_SECRET: z.string().min(32, 'expected at least 32 random characters (e.g. `openssl rand -base64 48`)').optional(),
  RECAP_SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24 * 7),
});

const empty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

/** Reads the dashboard's variables; throws a ConfigError naming the variable when one is missing or bad. */
export function webConfigFrom(env: NodeJS.ProcessEnv): WebConfig | undefined {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, empty(env[k])]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid value');
  }
  const e = parsed.data;
  if (e.DISCORD_CLIENT_ID === undefined) return undefined;
  if (e.DISCORD_CLIENT_SECRET === undefined) throw new ConfigError('DISCORD_CLIENT_SECRET', 'expected the OAuth2 client secret, because DISCORD_CLIENT_ID is set');
  if (e.RECAP_SESSION_SECRET === undefined) throw new ConfigError('RECAP_SESSION_SECRET', 'expected at least 32 random characters, because DISCORD_CLIENT_ID is set');
  const publicUrl = e.RECAP_PUBLIC_URL ?? e.PUBLIC_URL;
  if (publicUrl === undefined) throw new ConfigError('RECAP_PUBLIC_URL', 'expected the dashboard\'s public base URL, because DISCORD_CLIENT_ID is set');
  return {
    clientId: e.DISCORD_CLIENT_ID,
    clientSecret: new Secret(e.DISCORD_CLIENT_SECRET),
    publicUrl: new URL(publicUrl.replace(/\/?$/, '/')),
    sessionSecret: new Secret(e.RECAP_SESSION_SECRET),
    sessionTtlMs: e.RECAP_SESSION_TTL_HOURS * 3_600_000,
  };
}

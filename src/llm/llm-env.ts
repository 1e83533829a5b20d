/**
 * The language-model service's own environment variables, validated here
 * next to the service that reads them. An empty value counts as unset, as
 * everywhere else in the configuration.
 */
import { z } from 'zod';
import type { Environment } from './plugin-host/env-substitution.ts';

interface LlmEnv {
  /** Requests per minute per member; 0 turns the limit off. */
  userRatePerMin: number;
  /** Requests per minute per guild; 0 turns the limit off. */
  guildRatePerMin: number;
}

class LlmEnvError extends Error {
  override readonly name = 'LlmEnvError';
}

const perMinute = (fallback: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce
      .number({ error: 'expected a whole number of requests per minute (0 for no limit)' })
      .int('expected a whole number of requests per minute (0 for no limit)')
      .min(0, 'expected a whole number of requests per minute (0 for no limit)')
      .max(100_000, 'expected at most 100000 requests per minute')
      .default(fallback),
  );

const schema = z.object({
  LLM_USER_RATE_PER_MIN: perMinute(10),
  LLM_GUILD_RATE_PER_MIN: perMinute(60),
});

export function readLlmEnv(env: Environment): LlmEnv {
  const parsed = schema.safeParse({ LLM_USER_RATE_PER_MIN: env.LLM_USER_RATE_PER_MIN, LLM_GUILD_RATE_PER_MIN: env.LLM_GUILD_RATE_PER_MIN });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'LLM settings');
    const raw = env[name];
    throw new LlmEnvError(`${name}: ${issue?.message ?? 'invalid value'}${raw === undefined ? '' : ` (got ${JSON.stringify(raw.slice(0, 40))})`}`);
  }
  return { userRatePerMin: parsed.data.LLM_USER_RATE_PER_MIN, guildRatePerMin: parsed.data.LLM_GUILD_RATE_PER_MIN };
}

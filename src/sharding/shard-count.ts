import { REST, Routes } from 'discord.js';
import type { Secret } from '../config/secret.ts';

/**
 * `SHARDS=auto`: the number Discord recommends for this bot
 * (`GET /gateway/bot`). discord.js's own 'auto' always asks discord.com, so
 * ask through the configured API URL instead (an emulator in tests).
 */
export async function resolveShardCount(shards: 'auto' | number, token: Secret, apiUrl: string | undefined): Promise<number> {
  if (shards !== 'auto') return shards;
  const rest = new REST(apiUrl === undefined ? {} : { api: apiUrl }).setToken(token.reveal());
  const answer = (await rest.get(Routes.gatewayBot())) as { shards?: unknown };
  const recommended = answer.shards;
  if (typeof recommended !== 'number' || !Number.isInteger(recommended) || recommended < 1 || recommended > 10_000) {
    throw new Error(`Discord recommended ${JSON.stringify(recommended)} shards; set SHARDS to a number instead of auto`);
  }
  return recommended;
}

import type { Kysely } from 'kysely';
import type { Config } from '../config/env.ts';
import type { Database } from '../db/schema.ts';
import type { HttpServer } from '../http/server.ts';
import type { LlmService } from '../llm/service.ts';
import type { Logger } from '../log/logger.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import type { Clock } from '../resilience/clock.ts';
import { createBotView } from './bot-view.ts';
import { createCookieCrypto } from './cookie-crypto.ts';
import { createDiscordOAuth } from './discord-oauth.ts';
import { mountDashboard } from './routes.ts';
import { createSessionStore } from './session-store.ts';
import { webConfigFrom } from './web-env.ts';

export interface Dashboard {
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60 * 60_000;

/**
 * The web dashboard, when DISCORD_CLIENT_ID (and its companions) are set:
 * mounts its routes and returns what to close. Undefined when it is off.
 * Mounted only where RECAP_ROLE is `web` or `all` (the caller decides).
 */
export function startDashboard(deps: {
  env: NodeJS.ProcessEnv;
  config: Config;
  http: HttpServer;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  prompts: PromptEngine;
  llm: LlmService;
}): Dashboard | undefined {
  const web = webConfigFrom(deps.env);
  if (web === undefined) return undefined;
  const token = deps.config.discord.token;
  if (token === undefined) {
    deps.logger.warn('DISCORD_CLIENT_ID is set but DISCORD_TOKEN is not: the dashboard needs the bot token to check members\' permissions, so it is off');
    return undefined;
  }
  const apiUrl = deps.config.discord.apiUrl ?? 'https://discord.com/api';
  const crypto = createCookieCrypto(web.sessionSecret);
  const sessions = createSessionStore({ db: deps.db, crypto, clock: deps.clock, ttlMs: web.sessionTtlMs });
  const bot = createBotView({ token: token.reveal(), apiUrl: deps.config.discord.apiUrl });
  const redirectUri = new URL('auth/callback', web.publicUrl).href;
  mountDashboard({
    ...deps,
    config: web,
    bot,
    sessions,
    crypto,
    oauth: createDiscordOAuth({ apiUrl, clientId: web.clientId, clientSecret: web.clientSecret, redirectUri }),
  });
  const sweep = setInterval(() => {
    sessions.sweep().catch((error: unknown) => deps.logger.warn({ err: error }, 'dashboard: ended sessions could not be deleted'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();
  deps.logger.info({ redirectUrl: redirectUri }, 'dashboard on: the Discord application\'s OAuth2 redirect must be this address');
  return {
    async close() {
      clearInterval(sweep);
      await bot.destroy();
    },
  };
}

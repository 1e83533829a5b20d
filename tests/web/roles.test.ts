/**
 * Where the dashboard is served: RECAP_ROLE web and all mount it (when
 * DISCORD_CLIENT_ID is set); a shards host never does; an incomplete
 * configuration is refused naming the missing variable.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';

const TOKEN = 'web-roles-bot-token';
const logger = createLogger({ level: 'silent', format: 'json' });

describe('the dashboard by RECAP_ROLE', () => {
  let discord: DiscordEmulator;
  let database: DatabaseHandle;
  let app: App | undefined;

  beforeAll(async () => {
    discord = await startDiscordEmulator({ botToken: TOKEN });
    discord.addGuild({ name: 'roles' });
    database = await createPgliteDatabase();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });
  afterAll(async () => {
    await discord?.close();
    await database?.close();
  });

  const dashboardEnv = {
    DISCORD_CLIENT_ID: '712345678901234567',
    DISCORD_CLIENT_SECRET: 'a-client-secret',
    RECAP_PUBLIC_URL: 'http://127.0.0.1:1',
    RECAP_SESSION_SECRET: randomBytes(32).toString('base64'),
  };

  const start = async (env: Record<string, string>): Promise<string> => {
    const all = {
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATABASE_MIGRATE_ON_START: 'false',
      DATABASE_URL: 'postgres://recap@127.0.0.1:1/unused',
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_REGISTER_COMMANDS: 'false',
      ...env,
    };
    app = await createApp(loadConfig(all), logger, { database: { ...database, close: async () => undefined }, env: all });
    return (await app.start()).url;
  };

  it('web: `/` is the login page and the static files are served', async () => {
    const url = await start({ RECAP_ROLE: 'web', ...dashboardEnv });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Log in with Discord');
    expect((await fetch(`${url}/static/uplot.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/static/../package.json`)).status).toBe(404);
  });

  it('shards: no dashboard, even configured', async () => {
    const url = await start({ RECAP_ROLE: 'shards', ...dashboardEnv });
    await discord.waitForSessions(1, 10_000);
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/auth/login`)).status).toBe(404);
  });

  it('web without DISCORD_CLIENT_ID: no dashboard', async () => {
    const url = await start({ RECAP_ROLE: 'web' });
    expect((await fetch(`${url}/`)).status).toBe(404);
  });

  it('a half-done configuration names the missing variable', async () => {
    await expect(start({ RECAP_ROLE: 'web', DISCORD_CLIENT_ID: '712345678901234567' })).rejects.toThrow(ConfigError);
    await expect(start({ RECAP_ROLE: 'web', ...dashboardEnv, RECAP_SESSION_SECRET: 'short' })).rejects.toThrow(/RECAP_SESSION_SECRET/);
  });
});

/**
 * What each RECAP_ROLE serves, in process (the multi-host e2e test runs the
 * same as real processes): a web process takes webhooks and the App's setup
 * page and never touches Discord, even given a token; a shards process
 * connects to Discord and serves health and metrics only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { capturingLogger } from '../webhooks/helpers.ts';

const TOKEN = 'roles-test-bot-token';

describe('RECAP_ROLE in one process', () => {
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

  /** The app on the shared test database; its own close must not close that database. */
  const start = async (env: Record<string, string>) => {
    const config = loadConfig({
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATABASE_MIGRATE_ON_START: 'false',
      // The configuration wants the shared Postgres of a split deployment; the database itself is injected.
      DATABASE_URL: 'postgres://recap@127.0.0.1:1/unused',
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_REGISTER_COMMANDS: 'false',
      GITHUB_WEBHOOK_SECRET: 'roles-test-webhook-secret',
      ...env,
    });
    const { logger, lines } = capturingLogger('info');
    app = await createApp(config, logger, { database: { ...database, close: async () => undefined } });
    const { url } = await app.start();
    return { url, lines };
  };

  const status = async (url: string, path: string, method = 'GET'): Promise<number> =>
    (await fetch(`${url}${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) })).status;

  it('web: webhooks and the setup page answer; Discord is never contacted, and the token is called out', async () => {
    const requestsBefore = discord.requests.length;
    const { url, lines } = await start({ RECAP_ROLE: 'web' });
    expect(app?.bot).toBeUndefined();
    // Unsigned: refused by the webhook route itself, which exists here.
    expect(await status(url, '/webhooks/github', 'POST')).toBe(401);
    expect(await status(url, '/webhooks/github/abcdefghijklmnop', 'POST')).toBe(401);
    expect(await status(url, '/github/setup')).not.toBe(404);
    expect(await status(url, '/healthz')).toBe(200);
    expect(lines().map((l) => l['msg'])).toContain(
      'RECAP_ROLE=web never connects to the Discord gateway; DISCORD_TOKEN is used over REST only, by the API and feeds to check who may read what',
    );
    // The API is mounted here (a key is asked for), and its document is open.
    expect(await status(url, '/api/v1/guilds/1/summaries')).toBe(401);
    expect(await status(url, '/api/v1/openapi.json')).toBe(200);
    expect(discord.requests.length).toBe(requestsBefore);
    expect(discord.gateway.sessions).toHaveLength(0);
  });

  it('shards: connects to Discord; its port serves health, readiness and metrics, and 404 for webhooks and setup', async () => {
    const { url } = await start({ RECAP_ROLE: 'shards' });
    expect(app?.bot).toBeDefined();
    await discord.waitForSessions(1, 10_000);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(await status(url, path)).toBe(200);
    expect(await status(url, '/webhooks/github', 'POST')).toBe(404);
    expect(await status(url, '/api/v1/openapi.json')).toBe(404);
    expect(await status(url, '/webhooks/github/abcdefghijklmnop', 'POST')).toBe(404);
    expect(await status(url, '/github/setup')).toBe(404);
  });
});

/**
 * /readyz follows the Discord gateway of a real discord.js client (the app's
 * own, in this process) against the Discord emulator: 503 with a reason
 * until READY, 200 once connected, 503 while the gateway is unreachable,
 * 200 again after the client reconnected. The Discord metrics follow too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import { startDiscordEmulator, type DiscordEmulator, type StoredChannel, type StoredUser } from '../emulators/discord/server.ts';
import { createPgliteDatabase, silentLogger } from '../helpers/databases.ts';
import { readyz, readyzAnswering, until } from '../helpers/readiness.ts';

const TOKEN = 'readyz-bot-token';

describe('/readyz with DISCORD_TOKEN set (one process)', () => {
  let discord: DiscordEmulator;
  let app: App;
  let base: string;
  let admin: StoredUser;
  let member: StoredUser;
  let channel: StoredChannel;

  beforeAll(async () => {
    discord = await startDiscordEmulator({ botToken: TOKEN, heartbeatIntervalMs: 500 });
    const guild = discord.addGuild({ name: 'readiness' });
    admin = discord.addUser({ username: 'admin' });
    discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
    member = discord.addUser({ username: 'member' });
    discord.addMember(guild.id, member.id);
    channel = discord.addChannel(guild.id, { kind: 'text', name: 'general' });
    const config = loadConfig({
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATABASE_MIGRATE_ON_START: 'false',
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_REGISTER_COMMANDS: 'false',
    });
    app = await createApp(config, silentLogger, { database: await createPgliteDatabase() });
  });

  afterAll(async () => {
    await app?.stop();
    await discord?.close();
  });

  it('answers 503 with a reason until the gateway is READY, then 200', async () => {
    discord.gateway.holdIdentify();
    const starting = app.start();
    await until(async () => (app.http.server.listening ? true : undefined), 10_000, 'the HTTP server');
    const address = app.http.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    // The client has identified and waits for READY.
    const before = await readyzAnswering(base, 503, 10_000);
    expect(discord.gateway.sessions).toHaveLength(0);
    expect(before.body).toMatchObject({ status: 'unavailable', checks: { database: 'ok', discord: 'starting' } });
    expect(before.body.reason).toMatch(/^discord: waiting for the gateway's READY \(/);

    discord.gateway.releaseIdentify();
    await starting;
    const after = await readyz(base);
    expect(after).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', discord: 'ok' } } });
  }, 30_000);

  it('counts commands by name, kind and outcome, with their latency', async () => {
    const handle = discord.sendInteraction({ type: 'command', userId: admin.id, name: 'prompt-config', subcommand: 'test', channelId: channel.id });
    await handle.waitForFinal(() => true, 15_000);
    // Refused with a clear answer (Manage Server needed): not a failure.
    await discord.sendInteraction({ type: 'command', userId: member.id, name: 'prompt-config', subcommand: 'test', channelId: channel.id }).waitForReply(15_000);
    const unknown = discord.sendInteraction({ type: 'command', userId: admin.id, name: 'no-such-command', channelId: channel.id });
    await unknown.waitForReply(15_000);
    const text = await until(
      async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return body.includes('outcome="unknown"') ? body : undefined;
      },
      5_000,
      'both interactions in /metrics',
    );
    expect(text).toMatch(/^recap_discord_interactions_total\{command="prompt-config",kind="command",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^recap_discord_interaction_duration_seconds_count\{command="prompt-config",kind="command",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^recap_discord_interactions_total\{command="prompt-config",kind="command",outcome="refused"\} 1$/m);
    // A name the bot does not know never becomes a label value of its own.
    expect(text).toMatch(/^recap_discord_interactions_total\{command="unknown",kind="command",outcome="unknown"\} 1$/m);
    expect(text).not.toContain('no-such-command');
  }, 30_000);

  it('reports the shard up with its gateway ping', async () => {
    const text = await until(
      async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return /^recap_discord_gateway_ping_seconds\{shard="0"\} [0-9.e-]+$/m.test(body) ? body : undefined;
      },
      10_000,
      'a heartbeat ping in /metrics',
    );
    expect(text).toMatch(/^recap_discord_shard_up\{shard="0"\} 1$/m);
  }, 15_000);

  it('answers 503 with the reason while the gateway is unreachable, and 200 once the client reconnected', async () => {
    discord.gateway.outage();
    const down = await readyzAnswering(base, 503, 10_000);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { database: 'ok', discord: 'disconnected' } });
    expect(down.body.reason).toMatch(/^discord: every gateway shard is disconnected \(shard 0: \w/);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^recap_discord_shard_up\{shard="0"\} 0$/m);
    // Liveness does not depend on Discord.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    discord.gateway.restore();
    const up = await readyzAnswering(base, 200, 30_000);
    expect(up.body).toEqual({ status: 'ready', checks: { database: 'ok', discord: 'ok' } });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^recap_discord_shard_up\{shard="0"\} 1$/m);
  }, 45_000);
});

describe('/readyz without DISCORD_TOKEN', () => {
  it('leaves Discord out', async () => {
    const config = loadConfig({ HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', DATABASE_MIGRATE_ON_START: 'false' });
    const app = await createApp(config, silentLogger, { database: await createPgliteDatabase() });
    try {
      const { url } = await app.start();
      expect(await readyz(url)).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok' } } });
    } finally {
      await app.stop();
    }
  });
});

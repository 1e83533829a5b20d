import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { PromptConfigStore } from '../../src/prompts/prompt-config-store.ts';
import { DeliveryStore } from '../../src/webhooks/delivery-store.ts';
import { spawnBotProcess, type BotProcess } from '../e2e/harness.ts';
import { startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';
import { createPostgresDatabase, silentLogger } from '../helpers/databases.ts';
import { postWebhook, pushPayload, WEBHOOK_SECRET } from '../webhooks/helpers.ts';
import { childEnv, seededPgliteDataDir } from './process-env.ts';

const MAX_ATTEMPTS = 3;

/**
 * A delivery whose processing crashes the process (the test-only fault
 * RECAP_TEST_CRASH_ON_DELIVERY_REPO) is counted before each attempt, so
 * after MAX_ATTEMPTS crashed processes the next one marks it failed, with
 * its reason, and keeps serving.
 */
for (const kind of ['pglite', 'postgres'] as const) {
  const skip = kind === 'postgres' && inject('postgresUrl') === '';
  describe.skipIf(skip)(`a poison webhook delivery [${kind}${skip ? `: skipped, ${inject('postgresSkipReason')}` : ''}]`, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    const bots: BotProcess[] = [];
    let env: Record<string, string>;
    let open: () => Promise<DatabaseHandle>;
    let discord: DiscordEmulator;
    let guildId: string;
    let adminId: string;
    let channelId: string;

    beforeAll(async () => {
      discord = await startDiscordEmulator({ botToken: 'poison-bot-token' });
      cleanups.push(() => discord.close());
      const guild = discord.addGuild({ name: 'poison' });
      guildId = guild.id;
      const admin = discord.addUser({ username: 'admin' });
      adminId = admin.id;
      discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
      channelId = discord.addChannel(guild.id, { kind: 'text', name: 'general' }).id;
      const data = await seededPgliteDataDir();
      cleanups.push(() => data.remove());
      let url: string | undefined;
      if (kind === 'postgres') {
        const created = await createPostgresDatabase();
        cleanups.push(() => created.drop());
        url = created.url;
      }
      // PGlite admits one process at a time: open only while no bot runs.
      open = () => openDatabase({ ...(url === undefined ? {} : { url }), dataDir: data.dir, poolMax: 1, logger: silentLogger });
      const handle = await open();
      await new PromptConfigStore(handle.db).save({
        guildId,
        repoUrl: 'https://github.com/acme/poison',
        apiBaseUrl: 'https://api.github.com',
        owner: 'acme',
        repo: 'poison',
        branch: 'main',
        actorId: adminId,
      });
      await handle.close();
      env = childEnv({
        DATA_DIR: data.dir,
        ...(url === undefined ? {} : { DATABASE_URL: url }),
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        GITHUB_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        GITHUB_WEBHOOK_LEASE: '1s',
        RECAP_TEST_CRASH_ON_DELIVERY_REPO: 'acme/poison',
      });
    });
    afterAll(async () => {
      for (const bot of bots) bot.kill();
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    function start(): BotProcess {
      const bot = spawnBotProcess(env);
      bots.push(bot);
      return bot;
    }

    async function crashes(bot: BotProcess, deliveryId: string): Promise<void> {
      const exit = await Promise.race([bot.exited, new Promise<never>((_, r) => setTimeout(() => r(new Error(`did not crash:\n${bot.tail()}`)), 40_000))]);
      expect(exit.code).toBe(1);
      const fatal = bot.lines.find((l) => l.json?.['kind'] === 'uncaught_exception');
      expect(fatal?.json?.['level']).toBe(60);
      // The process-level policy logs the failing work's correlation id: the delivery id.
      expect(fatal?.json?.['correlationId']).toBe(deliveryId);
    }

    it(`crashes ${MAX_ATTEMPTS} processes, then is failed with its reason while the next process keeps serving`, async () => {
      const first = start();
      const url = await first.ready();
      const res = await postWebhook(url, { event: 'push', body: pushPayload('acme/poison', { after: 'b'.repeat(40) }) });
      expect(res.status).toBe(202);
      await crashes(first, res.delivery);

      for (let restart = 2; restart <= MAX_ATTEMPTS; restart += 1) await crashes(start(), res.delivery);

      // The survivor also serves Discord, so an admin can see the failed delivery.
      const survivor = spawnBotProcess({ ...env, DISCORD_TOKEN: discord.botToken, DISCORD_API_URL: discord.apiUrl, DISCORD_DEV_GUILD_ID: guildId });
      bots.push(survivor);
      const survivorUrl = await survivor.ready(60_000);
      const gaveUp = await survivor.waitForLog((l) => l.msg === 'webhook delivery failed; giving up: the process stopped during each attempt', 30_000);
      expect(gaveUp.json).toMatchObject({ delivery: res.delivery, attempts: MAX_ATTEMPTS, repo: 'acme/poison' });
      expect((await fetch(`${survivorUrl}/healthz`)).status).toBe(200);
      await discord.waitForRequest((r) => r.method === 'PUT' && r.path.endsWith(`/guilds/${guildId}/commands`) && r.status === 200, 30_000);
      const status = await discord
        .sendInteraction({ type: 'command', name: 'prompt-config', subcommand: 'status', userId: adminId, channelId })
        .waitForFinal(() => true, 30_000);
      const failedField = status.embeds[0]?.fields?.find((f) => f.name === 'Webhook deliveries that failed');
      expect(failedField?.value).toContain(res.delivery);
      expect(failedField?.value).toContain(`${MAX_ATTEMPTS} attempts`);
      expect(failedField?.value).toContain('the process stopped while processing it each time');
      await survivor.stop();

      const handle = await open();
      try {
        const row = await DeliveryStore.over(handle.db).get(res.delivery);
        expect(row).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, nextAttemptAt: null });
        expect(row?.error).toContain(`gave up after ${MAX_ATTEMPTS} attempts: the process stopped while processing it each time`);
        expect(await DeliveryStore.over(handle.db).failedFor('acme/poison', 3)).toEqual([expect.objectContaining({ deliveryId: res.delivery })]);
      } finally {
        await handle.close();
      }
    }, 300_000);
  });
}

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnBotProcess, type BotProcess } from '../e2e/harness.ts';
import { startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';
import { createPostgresDatabase } from '../helpers/databases.ts';
import { childEnv, seededPgliteDataDir } from './process-env.ts';

/** Start-up failures end the real entry (`src/main.ts`) with a non-zero code and one clear stderr line. */
for (const kind of ['pglite', 'postgres'] as const) {
  const skip = kind === 'postgres' && inject('postgresUrl') === '';
  describe.skipIf(skip)(`start-up failures exit non-zero [${kind}${skip ? `: skipped, ${inject('postgresSkipReason')}` : ''}]`, () => {
    let databaseEnv: Record<string, string>;
    const cleanups: Array<() => Promise<void> | void> = [];
    let discord: DiscordEmulator;
    let blocker: Server;
    let takenPort: number;

    beforeAll(async () => {
      const data = await seededPgliteDataDir();
      cleanups.push(() => data.remove());
      databaseEnv = { DATA_DIR: data.dir };
      if (kind === 'postgres') {
        const created = await createPostgresDatabase();
        cleanups.push(() => created.drop());
        databaseEnv.DATABASE_URL = created.url;
      }
      discord = await startDiscordEmulator({ botToken: 'the-real-bot-token' });
      cleanups.push(() => discord.close());
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      takenPort = (blocker.address() as { port: number }).port;
      cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    });
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    async function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string[]; bot: BotProcess }> {
      const bot = spawnBotProcess(childEnv({ ...databaseEnv, ...env }));
      const exit = await Promise.race([
        bot.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after 60 s:\n${bot.tail()}`)), 60_000)),
      ]).finally(() => bot.kill());
      return { code: exit.code, stderr: bot.lines.filter((l) => l.stream === 'stderr').map((l) => l.raw), bot };
    }

    it('the HTTP port already in use', async () => {
      const { code, stderr } = await runToExit({ HTTP_PORT: String(takenPort) });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toEqual([`recap-bot: http: 127.0.0.1:${takenPort} is already in use; stop what listens there or set HTTP_PORT to a free port`]);
    }, 90_000);

    it('Discord refuses the token (401)', async () => {
      const { code, stderr } = await runToExit({ DISCORD_TOKEN: 'a-token-discord-does-not-know', DISCORD_API_URL: discord.apiUrl, DISCORD_REGISTER_COMMANDS: 'false' });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toEqual([
        'recap-bot: discord: the login was refused: DISCORD_TOKEN is not a valid bot token (copy it again from the Developer Portal, Bot tab)',
      ]);
      expect(discord.requests.some((r) => r.status === 401)).toBe(true);
    }, 90_000);
  });
}

/**
 * The app in the `web` role on a test database, over real HTTP, against the
 * Discord emulator (REST only, as the web role runs): the API and feeds as
 * integrations and feed readers meet them. Summaries are made by the real
 * pipeline with the offline `local` provider.
 *
 * World: `admin` (Manage Server) reads `#general` and `#staff` (hidden from
 * @everyone); `#admins-out` is hidden from the admin; `exadmin` created a
 * key while an admin and no longer has Manage Server.
 */
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { startDiscordEmulator, type DiscordEmulator, type StoredChannel, type StoredGuild, type StoredUser } from '../emulators/discord/server.ts';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.ts';

const TOKEN = 'api-test-bot-token';

export interface ApiWorld {
  guild: StoredGuild;
  admin: StoredUser;
  exadmin: StoredUser;
  member: StoredUser;
  general: StoredChannel;
  staff: StoredChannel;
  hidden: StoredChannel;
}

export interface ApiHarness {
  app: App;
  url: string;
  discord: DiscordEmulator;
  world: ApiWorld;
  /** Every log line the app wrote, as text. */
  logText(): string;
  close(): Promise<void>;
}

export async function startApiHarness(database: DatabaseHandle, env: Record<string, string> = {}): Promise<ApiHarness> {
  const discord = await startDiscordEmulator({ botToken: TOKEN });
  const guild = discord.addGuild({ name: 'acme' });
  const admin = discord.addUser({ username: 'admin' });
  discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
  const exadmin = discord.addUser({ username: 'exadmin' });
  discord.addMember(guild.id, exadmin.id);
  const member = discord.addUser({ username: 'member' });
  discord.addMember(guild.id, member.id);
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general' });
  const staff = discord.addChannel(guild.id, { kind: 'text', name: 'staff' });
  const hidden = discord.addChannel(guild.id, { kind: 'text', name: 'admins-out' });
  for (const channel of [general, staff, hidden]) {
    discord.seedMessages(channel.id, [
      { authorId: member.id, content: `decision: we ship the release on Friday in #${channel.name}` },
      { authorId: admin.id, content: 'agreed, I will write the changelog <b>tonight</b> & post it' },
      { authorId: member.id, content: 'question: who updates the docs for the new API?' },
      { authorId: admin.id, content: 'action: Priya updates the docs by Thursday' },
    ]);
  }
  // Closed after the history was written: #staff to all but the admin and the bot, #admins-out to the admin.
  discord.setOverwrite(staff.id, { id: guild.id, type: 'role', deny: ['ViewChannel'] });
  discord.setOverwrite(staff.id, { id: admin.id, type: 'member', allow: ['ViewChannel'] });
  discord.setOverwrite(staff.id, { id: discord.bot.id, type: 'member', allow: ['ViewChannel'] });
  discord.setOverwrite(hidden.id, { id: admin.id, type: 'member', deny: ['ViewChannel'] });
  const config = loadConfig({
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    DATABASE_MIGRATE_ON_START: 'false',
    // The web role wants a deployment's Postgres; the database itself is injected.
    DATABASE_URL: 'postgres://recap@127.0.0.1:1/unused',
    DISCORD_TOKEN: TOKEN,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_REGISTER_COMMANDS: 'false',
    RECAP_ROLE: 'web',
    PUBLIC_URL: 'https://recap.example.com',
    // Permission changes below must count at the next request (the default reuses answers for 5 s).
    API_PERMISSION_CACHE_MS: '0',
    ...env,
  });
  // Every line kept as written (no vitest here: the web bench starts this harness too).
  const written: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', destination: new Writable({ write: (chunk: Buffer, _e, done) => (written.push(String(chunk)), done()) }) });
  const app = await createApp(config, logger, { database: { ...database, close: async () => undefined } });
  const { url } = await app.start();
  return {
    app,
    url,
    discord,
    world: { guild, admin, exadmin, member, general, staff, hidden },
    logText: () => written.join(''),
    async close() {
      await app.stop();
      await discord.close();
    },
  };
}

/**
 * The dashboard in one process against the Discord and GitHub emulators:
 * the real app (RECAP_ROLE=web) with its HTTP server on 127.0.0.1, a guild
 * where `admin` has Manage Server, `member` has not, and `restricted` cannot
 * see #staff; a category "Team" holding #team-chat; a prompt repository (acme/prompts) whose last push is broken.
 *
 *   const world = await startDashboardWorld(database);
 *   world.discord.oauth.approveAs(world.admin.id);   // who the OAuth page logs in as
 *   await world.close();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { startDiscordEmulator, type DiscordEmulator, type StoredChannel, type StoredGuild, type StoredUser } from '../emulators/discord/server.ts';
import { GitHubEmulator } from '../emulators/github/server.ts';
import { createLogger } from '../../src/log/logger.ts';

export const CLIENT_ID = '712345678901234567';
const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;
const silentLogger = createLogger({ level: 'silent', format: 'json' });
const BOT_TOKEN = `dashboard-bot-${randomBytes(8).toString('hex')}`;

export const GOOD_PATH = ['version: v1', 'routes:', '  category_default: "prompts/{category}/default.md"', 'fallback_chain:', '  - category_default', ''].join('\n');
/** Line 4 repeats a key: the problem the overview must show as PATH:4. */
export const BROKEN_PATH = 'version: v1\nroutes:\n  a: "x.md"\n  a: "y.md"\n';

export interface DashboardWorld {
  app: App;
  url: string;
  discord: DiscordEmulator;
  github: GitHubEmulator;
  guild: StoredGuild;
  admin: StoredUser;
  member: StoredUser;
  restricted: StoredUser;
  general: StoredChannel;
  staff: StoredChannel;
  team: StoredChannel;
  teamChat: StoredChannel;
  /** The commit whose PATH is broken. */
  brokenCommit: string;
  clientSecret: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function startDashboardWorld(database: DatabaseHandle): Promise<DashboardWorld> {
  const discord = await startDiscordEmulator({ botToken: BOT_TOKEN });
  const github = new GitHubEmulator();
  const githubServer = await github.start();
  const dir = mkdtempSync(join(tmpdir(), 'recap-web-'));
  writeFileSync(join(dir, 'plugins.yaml'), 'plugins:\n  local:\n    enabled: true\n  anthropic:\n    enabled: true\n    config:\n      base_url: http://127.0.0.1:9\n');

  const guild = discord.addGuild({ name: 'Acme Guild' });
  const admin = discord.addUser({ username: 'admin', globalName: 'Ada Admin' });
  discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild'] });
  const member = discord.addUser({ username: 'member' });
  discord.addMember(guild.id, member.id);
  const restricted = discord.addUser({ username: 'restricted' });
  discord.addMember(guild.id, restricted.id);
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general' });
  const staff = discord.addChannel(guild.id, { kind: 'text', name: 'staff', overwrites: [{ id: restricted.id, type: 'member', deny: ['ViewChannel'] }] });
  const team = discord.addChannel(guild.id, { kind: 'category', name: 'Team' });
  const teamChat = discord.addChannel(guild.id, { kind: 'text', name: 'team-chat', parentId: team.id });

  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  discord.oauth.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${publicUrl}/auth/callback`] });
  const env = {
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    RECAP_ROLE: 'web',
    DATABASE_MIGRATE_ON_START: 'false',
    DATABASE_URL: 'postgres://recap@127.0.0.1:1/unused',
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_REGISTER_COMMANDS: 'false',
    GITHUB_API_URL: githubServer.baseUrl,
    RECAP_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    DISCORD_CLIENT_ID: CLIENT_ID,
    DISCORD_CLIENT_SECRET: CLIENT_SECRET,
    RECAP_PUBLIC_URL: publicUrl,
    RECAP_SESSION_SECRET: randomBytes(32).toString('base64'),
    PLUGINS_CONFIG: join(dir, 'plugins.yaml'),
    ANTHROPIC_API_KEY: `sk-ant-operator-${'o'.repeat(24)}`,
  };
  const app = await createApp(loadConfig(env), silentLogger, { database: { ...database, close: async () => undefined }, env });
  const { url } = await app.start();

  github.createRepo('acme/prompts', {
    files: { PATH: GOOD_PATH, 'prompts/discussion/default.md': 'GOOD-PROMPT: summarize #{channel} as a {type} summary for {perspective} readers.\n\n{messages}\n' },
  });
  const inspected = await app.prompts.inspect({ guildId: guild.id, repoUrl: 'acme/prompts', branch: 'main' });
  if (!inspected.ok) throw new Error(`the test repository did not inspect: ${inspected.message}`);
  await app.prompts.saveConfig({ ...inspected.config, actorId: admin.id });
  app.prompts.invalidateGuild(guild.id);
  await app.prompts.refresh(guild.id);
  const brokenCommit = github.push('acme/prompts', 'main', { PATH: BROKEN_PATH });
  await app.prompts.refresh(guild.id);

  return {
    app,
    url,
    discord,
    github,
    guild,
    admin,
    member,
    restricted,
    general,
    staff,
    team,
    teamChat,
    brokenCommit,
    clientSecret: CLIENT_SECRET,
    async close() {
      await app.stop();
      await discord.close();
      await githubServer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

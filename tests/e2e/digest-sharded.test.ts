/**
 * Digests with SHARDS=2: a digest's run is a job of kind
 * `digest-run:<shard>`, claimed only by the shard process whose gateway
 * connection holds the guild; a digest in a guild of each shard is posted
 * once, by its own shard.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from '../../src/discord/commands/index.ts';
import { registerCommands } from '../../src/discord/register.ts';
import type { StoredChannel, StoredGuild, StoredUser } from '../emulators/discord/server.ts';
import { shardOfGuild } from '../emulators/discord/snowflake.ts';
import { EPHEMERAL } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

const WAIT_MS = 20_000;
const postgresUrl = inject('postgresUrl');

describe.skipIf(postgresUrl === '')(`digests with SHARDS=2${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let e2e: E2E;
  const other: { guild?: StoredGuild; admin?: StoredUser; source?: StoredChannel; target?: StoredChannel } = {};
  let target: StoredChannel;

  beforeAll(async () => {
    e2e = await startE2E({
      env: { SHARDS: '2', SHARD_SPAWN_DELAY_MS: '0' },
      discord: { maxConcurrency: 2 },
      startTimeoutMs: 80_000,
      setup(discord, world) {
        const shard = 1 - shardOfGuild(world.guild.id, 2);
        other.guild = discord.addGuild({ name: 'second-guild', shard: { id: shard, count: 2 } });
        other.admin = discord.addUser({ username: 'second-admin' });
        discord.addMember(other.guild.id, other.admin.id, { permissions: ['ManageGuild'] });
        other.source = discord.addChannel(other.guild.id, { kind: 'text', name: 'lobby' });
        other.target = discord.addChannel(other.guild.id, { kind: 'text', name: 'lobby-digest' });
        target = discord.addChannel(world.guild.id, { kind: 'text', name: 'general-digest', parentId: world.category.id });
      },
    });
    await e2e.bot.ready();
    await registerCommands({ token: e2e.env['DISCORD_TOKEN']!, applicationId: e2e.discord.applicationId, apiUrl: e2e.discord.apiUrl }, commands);
  }, 90_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('posts a digest in a guild of each shard once, from the process of that shard', async () => {
    const { discord, world } = e2e;
    await discord.waitForSessions(2, WAIT_MS);
    discord.seedMessages(world.general.id, [{ authorId: world.member.id, content: 'The release moves to Friday.', at: Date.now() - 60_000 }]);
    discord.seedMessages(other.source!.id, [{ authorId: other.admin!.id, content: 'Lobby opens at noon.', at: Date.now() - 60_000 }]);
    const cases = [
      { userId: world.admin.id, guildId: world.guild.id, source: world.general.id, target: target.id, channelId: world.general.id },
      { userId: other.admin!.id, guildId: other.guild!.id, source: other.source!.id, target: other.target!.id, channelId: other.source!.id },
    ];
    const ids: string[] = [];
    for (const c of cases) {
      const created = await discord
        .sendInteraction({ type: 'command', userId: c.userId, name: 'digest', subcommand: 'create', channelId: c.channelId, options: { source: c.source, post_to: c.target, every: 'daily' } })
        .waitForFinal(() => true, WAIT_MS);
      expect(created.flags & EPHEMERAL).toBe(EPHEMERAL);
      const id = /Digest `([0-9a-f]{10})`/.exec(created.content)?.[1];
      expect(id, created.content).toBeDefined();
      ids.push(id!);
      await discord.sendInteraction({ type: 'command', userId: c.userId, name: 'digest', subcommand: 'run-now', channelId: c.channelId, options: { id: id! } }).waitForFinal(() => true, WAIT_MS);
    }
    for (const c of cases) await discord.waitForBotMessage((m) => m.channel_id === c.target && m.embeds.length > 0, WAIT_MS);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const c of cases) expect(discord.botMessages.filter((m) => m.channel_id === c.target && m.embeds.length > 0)).toHaveLength(1);

    const db = await e2e.database.open();
    for (const [index, c] of cases.entries()) {
      const job = await db.selectFrom('jobs').select(['kind', 'state']).where('dedupe_key', '=', `digest:${ids[index]!}:now`).executeTakeFirstOrThrow();
      expect(job).toEqual({ kind: `digest-run:${shardOfGuild(c.guildId, 2)}`, state: 'done' });
    }
  }, 60_000);
});

/**
 * `/recap-config` in process (discord.js against the emulator): an API key
 * shown once and working, listed without its secret, revoked; feeds made
 * only of channels @everyone can read unless confirmed private (and that
 * confirmation recorded), of a channel's summaries or of a digest's runs
 * (its source and destination both checked, digests offered by autocomplete);
 * members without Manage Server refused.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/api/api-keys.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { recapConfigCommand } from '../../src/discord/commands/recap-config.ts';
import { createDigest } from '../../src/digests/digest-store.ts';
import { FeedStore } from '../../src/feeds/feed-store.ts';
import type { StoredChannel, StoredUser } from '../emulators/discord/server.ts';
import { privateReply } from '../helpers/discord-messages.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import { startInProcessBot, type InProcessBot } from './support.ts';

let database: DatabaseHandle;
let harness: InProcessBot;
let admin: StoredUser;
let mods: StoredChannel;

beforeAll(async () => {
  database = await createPgliteDatabase();
  harness = await startInProcessBot({ database, provider: new EchoProvider('echo', 'echo-large', 100_000), commands: (defaults) => [...defaults, recapConfigCommand] });
  admin = harness.discord.addUser({ username: 'root' });
  harness.discord.addMember(harness.world.guild.id, admin.id, { permissions: ['ManageGuild'] });
  mods = harness.discord.addChannel(harness.world.guild.id, {
    kind: 'text',
    name: 'mods',
    overwrites: [
      { id: harness.world.guild.id, type: 'role', deny: ['ViewChannel'] },
      { id: admin.id, type: 'member', allow: ['ViewChannel'] },
    ],
  });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

const run = (group: string, subcommand: string, options: Record<string, string | boolean> = {}, userId = admin.id) =>
  harness.discord.sendInteraction({ type: 'command', name: 'recap-config', group, subcommand, userId, channelId: harness.world.general.id, options });

it('api-key create shows the key once; it verifies; list never shows the secret; revoke ends it', async () => {
  const reply = await privateReply(run('api-key', 'create', { scopes: 'summaries:read summaries:create', name: 'ci' }), /shown only here, once/);
  const key = /rk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}/.exec(reply.content ?? '')?.[0];
  expect(key).toBeDefined();
  const store = new ApiKeyStore(database.db);
  const info = await store.verify(key!);
  expect(info).toMatchObject({ guildId: harness.world.guild.id, createdBy: admin.id, scopes: ['summaries:read', 'summaries:create'] });
  const list = await privateReply(run('api-key', 'list'), /API keys of this server/);
  expect(list.content).toContain(info!.prefixId);
  expect(list.content).not.toContain(key!.slice(16));
  await privateReply(run('api-key', 'revoke', { key: info!.prefixId }), /revoked/);
  expect(await store.verify(key!)).toBeUndefined();
  const audit = await database.db.selectFrom('audit_log').select(['action', 'details']).where('guild_id', '=', harness.world.guild.id).execute();
  expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['recap-config.api-key.create', 'recap-config.api-key.revoke']));
  expect(JSON.stringify(audit)).not.toContain(key!.slice(16));
});

it('feed create: a public channel at once; a channel @everyone cannot read only with confirm_private, recorded', async () => {
  const made = await privateReply(run('feed', 'create', { channel: harness.world.general.id }), /shown only here, once/);
  expect(made.content).toMatch(/\/feeds\/[A-Za-z0-9_-]{43}\.atom/);
  await privateReply(run('feed', 'create', { channel: mods.id }), /@everyone can't read/);
  const feeds = new FeedStore(database.db);
  expect((await feeds.list(harness.world.guild.id)).map((f) => f.targetId)).toEqual([harness.world.general.id]);
  await privateReply(run('feed', 'create', { channel: mods.id, confirm_private: true }), /you confirmed that anyone with the URL may read it/);
  const privateFeed = (await feeds.list(harness.world.guild.id)).find((f) => f.targetId === mods.id);
  expect(privateFeed?.confirmedPrivate).toBe(true);
  const audit = await database.db.selectFrom('audit_log').select('details').where('action', '=', 'recap-config.feed.create').execute();
  expect(audit.map((a) => (a.details as { confirmedPrivate: boolean }).confirmedPrivate).sort()).toEqual([false, true]);
});

it('feed create digest: offered by autocomplete, public source and destination at once, a private one only with confirm_private', async () => {
  const guildId = harness.world.guild.id;
  const digest = (sourceId: string, destinationId: string) =>
    createDigest(
      database.db,
      { guildId, sourceId, sourceKind: 'channel', destinationId, cadence: 'daily', at: '09:00', timezone: 'UTC', skipIfQuiet: false, createdBy: admin.id, nextRunAt: new Date('2026-12-10T09:00:00Z'), windowStart: new Date('2026-12-09T09:00:00Z') },
      new Date(),
    );
  const open = await digest(harness.world.general.id, harness.world.general.id);
  const intoMods = await digest(harness.world.general.id, mods.id);

  const offered = harness.discord.sendInteraction({ type: 'autocomplete', name: 'recap-config', group: 'feed', subcommand: 'create', userId: admin.id, channelId: harness.world.general.id, focused: 'digest', options: { digest: 'mods' } });
  expect((await offered.waitForChoices()).map((c) => String(c['value']))).toEqual([intoMods.id]);
  const notAdmin = harness.discord.sendInteraction({ type: 'autocomplete', name: 'recap-config', group: 'feed', subcommand: 'create', userId: harness.world.alice.id, channelId: harness.world.general.id, focused: 'digest', options: { digest: '' } });
  expect(await notAdmin.waitForChoices()).toEqual([]);

  await privateReply(run('feed', 'create', {}), /Give exactly one of `channel`/);
  await privateReply(run('feed', 'create', { channel: harness.world.general.id, digest: open.id }), /Give exactly one of `channel`/);
  await privateReply(run('feed', 'create', { digest: 'ffffffffff' }), /no digest with that id/);
  const made = await privateReply(run('feed', 'create', { digest: open.id }), /posted runs[\s\S]*shown only here, once/);
  expect(made.content).toMatch(/\/feeds\/[A-Za-z0-9_-]{43}\.atom/);
  await privateReply(run('feed', 'create', { digest: intoMods.id }), /@everyone can't read this digest's source/);
  await privateReply(run('feed', 'create', { digest: intoMods.id, confirm_private: true }), /you confirmed that anyone with the URL may read it/);
  const digestFeeds = (await new FeedStore(database.db).list(guildId)).filter((f) => f.kind === 'digest');
  expect(digestFeeds.map((f) => [f.targetId, f.confirmedPrivate]).sort()).toEqual([[intoMods.id, true], [open.id, false]].sort());
  const list = await privateReply(run('feed', 'list'), /Feeds of this server/);
  expect(list.content).toContain(`digest \`${open.id}\``);
});

it('members without Manage Server are refused', async () => {
  await privateReply(run('api-key', 'create', { scopes: 'summaries:read', name: 'x' }, harness.world.alice.id), /Manage Server/);
  await privateReply(run('feed', 'list', {}, harness.world.alice.id), /Manage Server/);
});

/**
 * channelsReadableBy against the Discord emulator, with a real discord.js
 * client logged in to the gateway and with a REST-only one (token set, no
 * login), as the web role runs. The emulator's own permission arithmetic is
 * the oracle; changes made after the client connected count at once.
 */
import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, type Guild } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { channelsReadableBy } from '../../src/discord/visibility/readable-by.ts';
import { Permission, startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';

const TOKEN = 'readable-by-token';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function emulator(): Promise<DiscordEmulator> {
  const discord = await startDiscordEmulator({ botToken: TOKEN, heartbeatIntervalMs: 200 });
  cleanups.push(async () => {
    await discord.close();
    expect(discord.internalErrors).toEqual([]);
  });
  return discord;
}

function seed(discord: DiscordEmulator) {
  const guild = discord.addGuild({ name: 'acme' });
  const staffRole = discord.addRole(guild.id, { name: 'staff' });
  const alice = discord.addUser({ username: 'alice' });
  discord.addMember(guild.id, alice.id, { roles: [staffRole.id] });
  const bob = discord.addUser({ username: 'bob' });
  discord.addMember(guild.id, bob.id);
  const mod = discord.addUser({ username: 'mod' });
  discord.addMember(guild.id, mod.id, { permissions: ['ManageThreads'] });
  const outsider = discord.addUser({ username: 'outsider' });
  const category = discord.addChannel(guild.id, { kind: 'category', name: 'work' });
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general', parentId: category.id });
  const staff = discord.addChannel(guild.id, {
    kind: 'text',
    name: 'staff',
    overwrites: [
      { id: guild.id, type: 'role', deny: ['ViewChannel'] },
      { id: staffRole.id, type: 'role', allow: ['ViewChannel'] },
      { id: guild.botRoleId, type: 'role', allow: ['ViewChannel'] },
    ],
  });
  const noHistory = discord.addChannel(guild.id, { kind: 'text', name: 'no-history', overwrites: [{ id: guild.id, type: 'role', deny: ['ReadMessageHistory'] }] });
  const thread = discord.addChannel(guild.id, { kind: 'thread', name: 'planning', parentId: general.id });
  // The bot is in it: a private thread the bot is not in is one it cannot know of (nor summarize).
  const privateThread = discord.addChannel(guild.id, { kind: 'private-thread', name: 'hush', parentId: general.id, ownerId: alice.id, members: [discord.bot.id] });
  const staffThread = discord.addChannel(guild.id, { kind: 'thread', name: 'staff-talk', parentId: staff.id });
  const archived = discord.addChannel(guild.id, { kind: 'thread', name: 'old', parentId: general.id, archived: true });
  const forum = discord.addChannel(guild.id, { kind: 'forum', name: 'ideas' });
  const post = discord.addChannel(guild.id, { kind: 'forum-post', name: 'dark mode', parentId: forum.id, ownerId: bob.id });
  return { guild, staffRole, alice, bob, mod, outsider, category, general, staff, noHistory, thread, privateThread, staffThread, archived, forum, post };
}

/**
 * The emulator's answer: every channel (not a category) where the user has View Channel and Read Message
 * History; of threads, those the bot can see (Discord lists no others to it).
 */
function oracle(discord: DiscordEmulator, guildId: string, userId: string, include: (archived: boolean) => boolean = (a) => !a): Set<string> {
  const read = Permission.ViewChannel | Permission.ReadMessageHistory;
  return new Set(
    discord.state
      .channelsOf(guildId)
      .filter((c) => c.type !== 4 && include(c.thread?.archived ?? false))
      .filter((c) => (discord.permissionsFor(c.id, userId) & read) === read && (!c.thread || (discord.permissionsFor(c.id, discord.bot.id) & Permission.ViewChannel) !== 0n))
      .map((c) => c.id),
  );
}

/** Channel names, sorted, for readable comparisons. */
function named(discord: DiscordEmulator, ids: Iterable<string>): string[] {
  return [...ids].map((id) => discord.state.channel(id).name).sort();
}

async function gatewayGuild(discord: DiscordEmulator, guildId: string): Promise<Guild> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: discord.apiUrl } });
  cleanups.push(async () => void (await client.destroy()));
  const ready = once(client, Events.ClientReady);
  await client.login(TOKEN);
  await ready;
  const guild = client.guilds.cache.get(guildId);
  if (guild === undefined) throw new Error('guild not in the gateway cache');
  return guild;
}

async function restGuild(discord: DiscordEmulator, guildId: string): Promise<Guild> {
  const client = new Client({ intents: [], rest: { api: discord.apiUrl } });
  cleanups.push(async () => void (await client.destroy()));
  client.rest.setToken(TOKEN);
  return client.guilds.fetch(guildId);
}

describe.each([
  ['gateway client', gatewayGuild],
  ['REST-only client', restGuild],
] as const)('channelsReadableBy on a %s', (_name, open) => {
  it('lists what each member can read: roles, overwrites, history, threads, private-thread membership, forum posts', async () => {
    const discord = await emulator();
    const w = seed(discord);
    const guild = await open(discord, w.guild.id);

    const alice = await channelsReadableBy(guild, w.alice.id);
    expect(named(discord, alice)).toEqual(named(discord, [w.general.id, w.staff.id, w.thread.id, w.privateThread.id, w.staffThread.id, w.forum.id, w.post.id]));
    expect(named(discord, alice)).toEqual(named(discord, oracle(discord, w.guild.id, w.alice.id)));

    const bob = await channelsReadableBy(guild, w.bob.id);
    expect(named(discord, bob)).toEqual(named(discord, [w.general.id, w.thread.id, w.forum.id, w.post.id]));
    expect(named(discord, bob)).toEqual(named(discord, oracle(discord, w.guild.id, w.bob.id)));

    // Manage Threads opens private threads without membership.
    const mod = await channelsReadableBy(guild, w.mod.id);
    expect(mod.has(w.privateThread.id)).toBe(true);
    expect(named(discord, mod)).toEqual(named(discord, oracle(discord, w.guild.id, w.mod.id)));

    // The owner reads everything, no-history channel included.
    const owner = await channelsReadableBy(guild, w.guild.ownerId);
    expect(owner.has(w.noHistory.id)).toBe(true);
    expect(named(discord, owner)).toEqual(named(discord, oracle(discord, w.guild.id, w.guild.ownerId)));

    // Someone who is not in the guild reads nothing.
    expect(await channelsReadableBy(guild, w.outsider.id)).toEqual(new Set());
    expect(await channelsReadableBy(guild, '123456789012345678')).toEqual(new Set());
  });

  it('archived threads are decided when asked for by id', async () => {
    const discord = await emulator();
    const w = seed(discord);
    const guild = await open(discord, w.guild.id);
    expect((await channelsReadableBy(guild, w.bob.id)).has(w.archived.id)).toBe(false);
    const withArchived = await channelsReadableBy(guild, w.bob.id, { threadIds: [w.archived.id, w.privateThread.id, '999999999999999999'] });
    expect(withArchived.has(w.archived.id)).toBe(true);
    expect(withArchived.has(w.privateThread.id)).toBe(false);
    expect(named(discord, withArchived)).toEqual(named(discord, oracle(discord, w.guild.id, w.bob.id, () => true)));
  });

  it('reads permissions now: a role given, an overwrite changed and a thread joined after the client connected', async () => {
    const discord = await emulator();
    const w = seed(discord);
    const guild = await open(discord, w.guild.id);
    expect((await channelsReadableBy(guild, w.bob.id)).has(w.staff.id)).toBe(false);

    discord.state.member(w.guild.id, w.bob.id)!.roleIds.push(w.staffRole.id);
    expect((await channelsReadableBy(guild, w.bob.id)).has(w.staff.id)).toBe(true);

    discord.setOverwrite(w.general.id, { id: w.bob.id, type: 'member', deny: ['ViewChannel'] });
    await until(async () => !(await channelsReadableBy(guild, w.bob.id)).has(w.general.id));
    const now = await channelsReadableBy(guild, w.bob.id);
    expect(now.has(w.thread.id)).toBe(false);
    expect(named(discord, now)).toEqual(named(discord, oracle(discord, w.guild.id, w.bob.id)));

    discord.addThreadMember(w.privateThread.id, w.alice.id);
    discord.setOverwrite(w.general.id, { id: w.bob.id, type: 'member' });
    discord.addThreadMember(w.privateThread.id, w.bob.id);
    await until(async () => (await channelsReadableBy(guild, w.bob.id)).has(w.privateThread.id));
    expect(named(discord, await channelsReadableBy(guild, w.bob.id))).toEqual(named(discord, oracle(discord, w.guild.id, w.bob.id)));
  });
});

/** The gateway client learns of an overwrite by CHANNEL_UPDATE, a moment after the change. */
async function until(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Visibility end to end: a summary reaches only people who can read its
 * source. The real bot process against the Discord emulator (roles,
 * permission overwrites, categories, private threads and their members,
 * forum posts, as Discord shapes them), summarizing with the offline
 * provider, driven only as members would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMessage, InteractionHandle, StoredChannel, StoredRole, StoredUser } from '../emulators/discord/server.ts';
import type { OverwriteSpec } from '../emulators/discord/state.ts';
import { EPHEMERAL, summaryOf } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

let e2e: E2E;
let lead: StoredUser;
let leads: StoredRole;
/** Only the Leads role may view it (@everyone denied). */
let leadsRoom: StoredChannel;

beforeAll(async () => {
  e2e = await startE2E();
  const { discord, world } = e2e;
  leads = discord.addRole(world.guild.id, { name: 'Leads' });
  lead = discord.addUser({ username: 'lead' });
  discord.addMember(world.guild.id, lead.id, { roles: [leads.id] });
  leadsRoom = discord.addChannel(world.guild.id, {
    kind: 'text',
    name: 'leads',
    overwrites: leadsOnly(),
  });
  discord.seedMessages(leadsRoom.id, [
    { authorId: lead.id, content: 'The reorg is announced on Monday; keep it quiet until then.' },
    { authorId: lead.id, content: 'Budget for the offsite is approved.' },
  ]);
}, 60_000);

afterAll(async () => {
  await e2e?.close();
});

/** Leads only (and the bot, through its managed role, as a server admin would set it up). */
function leadsOnly(): OverwriteSpec[] {
  const { world } = e2e;
  return [
    { id: world.guild.id, type: 'role', deny: ['ViewChannel'] },
    { id: leads.id, type: 'role', allow: ['ViewChannel'] },
    { id: world.guild.botRoleId, type: 'role', allow: ['ViewChannel'] },
  ];
}

/** The bot's messages in a channel that everyone there can see (not ephemeral). */
const publicIn = (channelId: string) => e2e.discord.state.messages(channelId).filter((m) => m.author.id === e2e.discord.bot.id && (m.flags & EPHEMERAL) === 0);

async function expectPublic(handle: InteractionHandle): Promise<ApiMessage[]> {
  const before = publicIn(handle.channelId).length;
  const messages = await summaryOf(handle);
  expect(messages.every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);
  expect(publicIn(handle.channelId).length).toBeGreaterThan(before);
  expect(handle.original!.content).toMatch(/^Summarized \d+ messages; posting the summary below/);
  return messages;
}

/** Shown to the asker alone, led by the one-line reason; nothing public in the channel. */
async function expectPrivate(handle: InteractionHandle): Promise<string> {
  const before = publicIn(handle.channelId).length;
  const messages = await summaryOf(handle);
  expect(messages.every((m) => (m.flags & EPHEMERAL) === EPHEMERAL)).toBe(true);
  expect(publicIn(handle.channelId)).toHaveLength(before);
  const reason = messages[0]!.content;
  expect(reason).toMatch(/^Only you can see this summary: [^\n]+\.$/);
  // The footer does not say who asked, as a private summary's footer never does.
  expect(messages.flatMap((m) => m.embeds).find((e) => e.footer)!.footer!.text).not.toMatch(/^Asked by/);
  return reason;
}

describe('a summary is shown only to people who can read its source', () => {
  it('restricted → public channel: answered privately, saying why in one line', async () => {
    const { world } = e2e;
    const handle = e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: leadsRoom.id } });
    const reason = await expectPrivate(handle);
    expect(reason).toBe(`Only you can see this summary: some members can see <#${world.general.id}> but can't see <#${leadsRoom.id}>.`);
    // The reorg never reached #general.
    expect(e2e.discord.state.messages(world.general.id).some((m) => JSON.stringify(m).includes('reorg'))).toBe(false);
  });

  it('restricted → the same channel: public', async () => {
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: leadsRoom.id }));
  });

  it('public → restricted: public', async () => {
    const { discord, world } = e2e;
    discord.seedMessages(world.general.id, [{ authorId: world.member.id, content: 'Lunch at noon for everyone.' }]);
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: leadsRoom.id, options: { channel: world.general.id } }));
  });

  it('a member overwrite that keeps one member out of the source names that member', async () => {
    const { world, discord } = e2e;
    // #staff hides itself from `restricted` alone; #general shows everything to everyone.
    discord.seedMessages(world.staff.id, [{ authorId: world.member.id, content: 'Interviews are on Thursday.' }]);
    const reason = await expectPrivate(e2e.command(world.member.id, 'summarize', { channelId: world.general.id, options: { channel: world.staff.id } }));
    expect(reason).toBe(`Only you can see this summary: <@${world.restricted.id}> can see <#${world.general.id}> but can't see <#${world.staff.id}>.`);
  });

  it('a private thread: public inside it, private in its parent channel', async () => {
    const { discord, world } = e2e;
    const hush = discord.addChannel(world.guild.id, {
      kind: 'private-thread',
      name: 'hush',
      parentId: world.general.id,
      ownerId: world.member.id,
      members: [discord.bot.id, lead.id],
    });
    discord.seedMessages(hush.id, [
      { authorId: world.member.id, content: 'A surprise party for the admin on Friday.' },
      { authorId: lead.id, content: 'I will bring the cake.' },
    ]);
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: hush.id }));
    const reason = await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: hush.id } }));
    expect(reason).toBe(`Only you can see this summary: some members can see <#${world.general.id}> but aren't in the private thread <#${hush.id}>.`);
    // A member added later is still not "everyone in #general".
    discord.addThreadMember(hush.id, world.admin.id);
    await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: hush.id } }));
  });

  it('a private thread shown where only its members can look: membership is asked of Discord for each member an overwrite names', async () => {
    const { discord, world } = e2e;
    // #huddle: @everyone out; `member` and `lead` let in by member overwrites.
    const huddle = discord.addChannel(world.guild.id, {
      kind: 'text',
      name: 'huddle',
      overwrites: [
        { id: world.guild.id, type: 'role', deny: ['ViewChannel'] },
        { id: world.guild.botRoleId, type: 'role', allow: ['ViewChannel'] },
        { id: world.member.id, type: 'member', allow: ['ViewChannel'] },
        { id: lead.id, type: 'member', allow: ['ViewChannel'] },
      ],
    });
    const pair = discord.addChannel(world.guild.id, { kind: 'private-thread', name: 'pair', parentId: world.general.id, ownerId: world.member.id, members: [discord.bot.id, lead.id] });
    discord.seedMessages(pair.id, [{ authorId: lead.id, content: 'Between the two of us: I am applying for the other team.' }]);
    const asked = () => discord.requests.filter((r) => r.route === 'GET /channels/:channelId/thread-members/:userId' && r.path.includes(pair.id));
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: huddle.id, options: { channel: pair.id } }));
    // Asked about: the two members the overwrites name, and the bot (its managed role lets it into #huddle).
    expect(asked().map((r) => r.path.split('/').at(-1)).sort()).toEqual([world.member.id, lead.id, discord.bot.id].sort());
    expect(asked().every((r) => r.status === 200)).toBe(true);
    // `member` leaves the thread: the huddle shows it to someone outside it.
    discord.removeThreadMember(pair.id, world.member.id);
    const reason = await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: huddle.id, options: { channel: pair.id } }));
    expect(reason).toBe(`Only you can see this summary: <@${world.member.id}> can see <#${huddle.id}> but isn't in the private thread <#${pair.id}>.`);
  });

  it('a forum post belongs to its forum: public in the post, private in a wider channel', async () => {
    const { discord, world } = e2e;
    const forum = discord.addChannel(world.guild.id, {
      kind: 'forum',
      name: 'lead-ideas',
      overwrites: leadsOnly(),
    });
    const post = discord.addChannel(world.guild.id, {
      kind: 'forum-post',
      name: 'four-day week',
      parentId: forum.id,
      ownerId: lead.id,
      starter: { authorId: lead.id, content: 'Should we try a four-day week next quarter?' },
    });
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: post.id }));
    const reason = await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: post.id } }));
    expect(reason).toBe(`Only you can see this summary: some members can see <#${world.general.id}> but can't see <#${post.id}>.`);
  });

  it('a category: a channel synced to a closed category is closed, one with its own open permissions is not', async () => {
    const { discord, world } = e2e;
    const vault = discord.addChannel(world.guild.id, {
      kind: 'category',
      name: 'vault',
      overwrites: leadsOnly(),
    });
    // Created in the category without overwrites of its own: Discord copies the category's (synced).
    const synced = discord.addChannel(world.guild.id, { kind: 'text', name: 'vault-synced', parentId: vault.id });
    const open = discord.addChannel(world.guild.id, { kind: 'text', name: 'vault-open', parentId: vault.id, overwrites: [] });
    discord.seedMessages(synced.id, [{ authorId: lead.id, content: 'The safe code changes monthly.' }]);
    discord.seedMessages(open.id, [{ authorId: world.member.id, content: 'Anyone can read this one.' }]);
    const reason = await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: synced.id } }));
    expect(reason).toContain(`can't see <#${synced.id}>`);
    await expectPublic(e2e.command(world.member.id, 'summarize', { channelId: world.general.id, options: { channel: open.id } }));
  });

  it('follows permission changes: a channel closed after a public summary is summarized privately next time', async () => {
    const { discord, world } = e2e;
    const room = discord.addChannel(world.guild.id, { kind: 'text', name: 'was-open' });
    discord.seedMessages(room.id, [{ authorId: world.member.id, content: 'Open for now.' }]);
    await expectPublic(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: room.id } }));
    // CHANNEL_UPDATE reaches the bot on the same connection, ahead of the next interaction.
    for (const overwrite of leadsOnly()) discord.setOverwrite(room.id, overwrite);
    const reason = await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: room.id } }));
    expect(reason).toContain(`can't see <#${room.id}>`);
  });

  it('leaves no interaction unanswered', async () => {
    // Its own interactions (a public and a private summary), so that it holds when run alone.
    const { discord, world } = e2e;
    const room = discord.addChannel(world.guild.id, { kind: 'text', name: 'audit' });
    discord.seedMessages(room.id, [
      { authorId: world.member.id, content: 'Audit this.' },
      { authorId: world.admin.id, content: 'And this.' },
    ]);
    const before = discord.interactions.length;
    await expectPublic(e2e.command(world.member.id, 'summarize', { channelId: room.id }));
    await expectPrivate(e2e.command(lead.id, 'summarize', { channelId: world.general.id, options: { channel: leadsRoom.id } }));
    expect(discord.interactions.length - before).toBe(2);
    expect(e2e.unanswered()).toEqual([]);
  });
});

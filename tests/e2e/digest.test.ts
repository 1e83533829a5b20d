/**
 * /digest end to end: the real bot process against the Discord emulator,
 * summarizing with the offline provider, driven as members would: create,
 * list, show, pause, resume, run-now and delete; refused at creation when
 * someone who can see the destination cannot read the source; and not
 * posted at run time when the destination became visible to outsiders.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiMessage, StoredChannel } from '../emulators/discord/server.ts';
import { EPHEMERAL, privateReply, WAIT_MS } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

let e2e: E2E;
let digests: StoredChannel;

beforeAll(async () => {
  e2e = await startE2E();
  const { discord, world } = e2e;
  digests = discord.addChannel(world.guild.id, { kind: 'text', name: 'digests', parentId: world.category.id });
}, 60_000);

afterAll(async () => {
  await e2e?.close();
});

const idOf = (reply: ApiMessage): string => /Digest `([0-9a-f]{10})`/.exec(reply.content)![1]!;
const postedIn = (channelId: string, since: number) => e2e.discord.botMessages.slice(since).filter((m) => m.channel_id === channelId && (m.flags & EPHEMERAL) === 0 && m.embeds.length > 0);

async function digest(sub: string, options: Record<string, string | boolean>, userId = e2e.world.admin.id): Promise<ApiMessage> {
  const { reply } = await e2e.runCommand(userId, 'digest', { subcommand: sub, options });
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return reply;
}

describe('/digest end to end', () => {
  it('creates, lists, runs now, shows the run, pauses, resumes and deletes a digest', async () => {
    const { world, discord } = e2e;
    const now = Date.now();
    discord.seedMessages(world.general.id, [
      { authorId: world.member.id, content: 'An old message from last week about the migration plan', at: now - 7 * 86_400_000 },
      { authorId: world.member.id, content: 'Shall we ship the release on Friday?', at: now - 120_000 },
      { authorId: world.admin.id, content: 'Decision: we ship on Friday after the smoke tests.', at: now - 60_000 },
    ]);
    const created = await digest('create', { source: world.general.id, post_to: digests.id, every: 'daily', at: '09:00', timezone: 'Europe/Berlin' });
    expect(created.content).toMatch(new RegExp(`^Digest \`[0-9a-f]{10}\` created: <#${world.general.id}> into <#${digests.id}>, daily at 09:00 \\(Europe/Berlin\\)\\. First run <t:\\d+:F>, covering the messages since <t:\\d+:f>\\.$`));
    const id = idOf(created);

    const list = await digest('list', {});
    expect(list.content).toContain(`\`${id}\` <#${world.general.id}> → <#${digests.id}>, daily at 09:00 (Europe/Berlin) · next <t:`);
    expect((await digest('show', { id })).content).toContain('No runs yet.');

    const before = discord.botMessages.length;
    expect((await digest('run-now', { id })).content).toBe(`Digest \`${id}\` will run in a moment and post in <#${digests.id}>; \`/digest show id:${id}\` lists the run.`);
    await discord.waitForBotMessage((m) => m.channel_id === digests.id && m.embeds.length > 0, WAIT_MS);
    const posted = postedIn(digests.id, before);
    expect(posted[0]!.embeds[0]!.title).toBe('Digest: #general');
    const body = JSON.stringify(posted.map((m) => m.embeds));
    expect(body).toContain('2 messages in the window');
    expect(body).toContain('ship on Friday');
    expect(body).not.toContain('migration plan');
    expect(posted.at(-1)!.embeds.at(-1)!.footer!.text).toContain(`2 messages in the window · digest ${id} · run `);

    let show = '';
    for (let i = 0; i < 50 && !show.includes('**posted**'); i += 1) {
      show = (await digest('show', { id })).content;
      if (!show.includes('**posted**')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(show).toMatch(new RegExp(`\\(run-now\\) \\*\\*posted\\*\\* · window <t:\\d+:f> – <t:\\d+:f> · 2 messages · https://discord\\.com/channels/${world.guild.id}/${digests.id}/${posted[0]!.id}`));

    expect((await digest('pause', { id })).content).toBe(`Digest \`${id}\` is paused. \`/digest resume id:${id}\` starts it again.`);
    expect((await digest('list', {})).content).toContain('paused: paused by admin');
    await privateReply(e2e.command(world.admin.id, 'digest', { subcommand: 'run-now', options: { id } }), new RegExp(`^Digest \`${id}\` is paused; \`/digest resume id:${id}\` first\\. \\(ref`));
    expect((await digest('resume', { id })).content).toMatch(new RegExp(`^Digest \`${id}\` resumed; next run <t:\\d+:F>\\.$`));

    // A plain member manages nothing here: the id reads as unknown.
    await privateReply(e2e.command(world.member.id, 'digest', { subcommand: 'show', options: { id } }), new RegExp(`^There is no digest \`${id}\` here that you can manage`));
    expect((await digest('delete', { id })).content).toBe(`Digest \`${id}\` deleted.`);
    expect((await digest('list', {})).content).toBe('No digests here that you can manage. Create one with `/digest create`.');
  });

  it('refuses a digest whose destination someone can see who cannot read the source', async () => {
    const { world, discord } = e2e;
    const before = discord.botMessages.length;
    const handle = e2e.command(world.admin.id, 'digest', { subcommand: 'create', options: { source: world.staff.id, post_to: world.general.id, every: 'daily' } });
    await privateReply(handle, new RegExp(`^I won't post a summary of <#${world.staff.id}> in <#${world.general.id}>: <@${world.restricted.id}> can see <#${world.general.id}> but can't see <#${world.staff.id}>\\.`));
    expect(postedIn(world.general.id, before)).toEqual([]);
    expect((await digest('list', {})).content).not.toContain(`<#${world.staff.id}> →`);
  });

  it('refuses a bad schedule with what to write instead', async () => {
    const { world } = e2e;
    await privateReply(e2e.command(world.admin.id, 'digest', { subcommand: 'create', options: { source: world.general.id, post_to: digests.id, every: 'daily', timezone: 'Mars/Olympus' } }), /^`timezone`: "Mars\/Olympus" is not an IANA time zone/);
    await privateReply(e2e.command(world.admin.id, 'digest', { subcommand: 'create', options: { source: world.general.id, post_to: digests.id, every: 'cron', cron: '*/5 * * * *' } }), /^A digest runs at most once an hour/);
    await privateReply(e2e.command(world.admin.id, 'digest', { subcommand: 'create', options: { source: world.general.id, post_to: digests.id, every: 'daily', at: '9am' } }), /^`at` takes a 24-hour time like `09:00`/);
  });

  it('does not post a run once the destination became visible to people who cannot read the source, and records why', async () => {
    const { world, discord } = e2e;
    const secretsOut = discord.addChannel(world.guild.id, {
      kind: 'text',
      name: 'staff-digest',
      overwrites: [
        { id: world.guild.id, type: 'role', deny: ['ViewChannel'] },
        { id: world.admin.id, type: 'member', allow: ['ViewChannel'] },
        { id: world.guild.botRoleId, type: 'role', allow: ['ViewChannel'] },
      ],
    });
    discord.seedMessages(world.staff.id, [{ authorId: world.admin.id, content: 'Salary bands for next year', at: Date.now() - 30_000 }]);
    const id = idOf(await digest('create', { source: world.staff.id, post_to: secretsOut.id, every: 'weekdays', at: '08:30', timezone: 'UTC' }));
    // Now everyone can see the destination, the restricted member included.
    discord.setOverwrite(secretsOut.id, { id: world.guild.id, type: 'role', allow: ['ViewChannel'] });
    // The overwrite reaches the bot over the gateway as CHANNEL_UPDATE.
    await vi.waitFor(() => expect(discord.gateway.sessions.some((s) => s.dispatched.some((d) => d.t === 'CHANNEL_UPDATE' && (d.d as { id?: string }).id === secretsOut.id))).toBe(true), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    const before = discord.botMessages.length;
    await digest('run-now', { id });
    let show = '';
    for (let i = 0; i < 60 && !show.includes('**not-posted**'); i += 1) {
      show = (await digest('show', { id })).content;
      if (!show.includes('**not-posted**')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(show).toContain('**not-posted**');
    expect(show).toContain(`I won't post a summary of <#${world.staff.id}> in <#${secretsOut.id}>: <@${world.restricted.id}> can see <#${secretsOut.id}> but can't see <#${world.staff.id}>.`);
    expect(postedIn(secretsOut.id, before)).toEqual([]);
  });
});

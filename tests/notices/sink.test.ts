/**
 * The admin notices sink over real Postgres and PGlite, posting through the
 * real REST poster to the Discord emulator: one post per cause per hour with
 * the repeats counted (atomically, across two sinks as two processes would
 * have), the count shown on the next hour's post, notice text kept as data
 * (no markdown, no mentions), and notices with no channel or no access kept
 * for the status views.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.ts';
import { createNoticePoster, noticeMessage } from '../../src/discord/output/admin-notice-message.ts';
import type { AdminNotice } from '../../src/notices/admin-notice.ts';
import { recentNotices, recordNotice, setNoticeChannel } from '../../src/notices/notice-store.ts';
import { createNoticeSink } from '../../src/notices/sink.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { startDiscordEmulator, type DiscordEmulator, type StoredChannel, type StoredGuild } from '../emulators/discord/server.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';

const TOKEN = 'notices-bot-token';
let discord: DiscordEmulator;
let guild: StoredGuild;
let notices: StoredChannel;
let closed: StoredChannel;

beforeAll(async () => {
  discord = await startDiscordEmulator({ botToken: TOKEN });
  guild = discord.addGuild({ name: 'acme' });
  notices = discord.addChannel(guild.id, { kind: 'text', name: 'bot-admin' });
  closed = discord.addChannel(guild.id, { kind: 'text', name: 'closed', overwrites: [{ id: discord.bot.id, type: 'member', deny: ['SendMessages'] }] });
});
afterAll(async () => {
  await discord.close();
  expect(discord.internalErrors).toEqual([]);
});

function notice(guildId: string, cause: string, extra: Partial<AdminNotice> = {}): AdminNotice {
  return { guildId, kind: 'prompt-push-invalid', cause, title: 'Commit abc1234 of acme/prompts failed validation', lines: ['PATH:4:3: repeats the key `main`'], ...extra };
}

const postsIn = (channelId: string) => discord.state.messages(channelId).filter((m) => m.author.id === discord.bot.id);

describeEachDatabase('admin notices', (database) => {
  const db = () => database().handle.db;

  it('concurrent occurrences of one cause: exactly one opens the window, all are counted', async () => {
    const guildId = `g-${randomUUID()}`;
    const now = new Date('2026-12-06T12:00:00Z');
    const results = await Promise.all(Array.from({ length: 8 }, () => recordNotice(db(), notice(guildId, 'same'), now)));
    expect(results.filter((r) => r.post)).toHaveLength(1);
    expect(Math.max(...results.map((r) => r.repeats))).toBe(8);
    const later = await recordNotice(db(), notice(guildId, 'same'), new Date(now.getTime() + 3_600_001));
    expect(later).toMatchObject({ post: true, repeats: 1, previousRepeats: 8 });
  });

  it('posts once per cause per hour to the notices channel, counting repeats, from two sinks at once', async () => {
    const guildId = guild.id;
    const cause = `cause-${randomUUID()}`;
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    await setNoticeChannel(db(), guildId, notices.id, 'admin', new Date(clock.now()));
    const poster = createNoticePoster(new Secret(TOKEN), discord.apiUrl);
    const one = createNoticeSink({ db: db(), poster, clock, logger: silentLogger });
    const two = createNoticeSink({ db: db(), poster, clock, logger: silentLogger });
    const before = postsIn(notices.id).length;
    const hostile = notice(guildId, cause, { title: 'Push by @everyone **bold** <@123> failed', lines: ['see https://github.com/acme/prompts/blob/abc/PATH#L4 now', '<#999> `x` _y_'] });
    await Promise.all([one.post(hostile), two.post(hostile), one.post(hostile)]);
    const posted = postsIn(notices.id).slice(before);
    expect(posted).toHaveLength(1);
    const content = posted[0]!.content;
    expect(content).not.toContain('@everyone');
    expect(content).toContain('@\u200beveryone');
    expect(content).not.toMatch(/<@123>|<#999>/);
    expect(content).toContain('\\*\\*bold\\*\\*');
    expect(content).toContain('<https://github.com/acme/prompts/blob/abc/PATH#L4>');
    const request = discord.requests.filter((r) => r.route === 'POST /channels/:channelId/messages').at(-1);
    expect(request?.body).toMatchObject({ allowed_mentions: { parse: [] } });

    clock.advance(3_600_001);
    await two.post(hostile);
    const next = postsIn(notices.id).slice(before);
    expect(next).toHaveLength(2);
    expect(next[1]!.content).toContain('This happened 3 times in the hour before');
    const [stored] = (await recentNotices(db(), guildId, new Date(0), 50)).filter((n) => n.cause === cause);
    expect(stored).toMatchObject({ total: 4, repeats: 1, deliveredChannelId: notices.id, deliveryError: null });
  });

  it('keeps notices for status when no channel is set, when the bot cannot post there, and when this process has no token', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const poster = createNoticePoster(new Secret(TOKEN), discord.apiUrl);
    const sink = createNoticeSink({ db: db(), poster, clock, logger: silentLogger });
    const unset = `g-${randomUUID()}`;
    await sink.post(notice(unset, 'a'));
    expect(await recentNotices(db(), unset, new Date(0), 5, true)).toMatchObject([{ cause: 'a', deliveryError: 'no notices channel set', deliveredChannelId: null }]);

    const blocked = `g-${randomUUID()}`;
    await setNoticeChannel(db(), blocked, closed.id, 'admin', new Date(clock.now()));
    await sink.post(notice(blocked, 'b'));
    const [kept] = await recentNotices(db(), blocked, new Date(0), 5, true);
    expect(kept?.deliveryError).toMatch(new RegExp(`could not post in <#${closed.id}>: Missing Permissions`));
    expect(postsIn(closed.id)).toEqual([]);

    const tokenless = `g-${randomUUID()}`;
    await setNoticeChannel(db(), tokenless, notices.id, 'admin', new Date(clock.now()));
    await createNoticeSink({ db: db(), clock, logger: silentLogger }).post(notice(tokenless, 'c'));
    expect(await recentNotices(db(), tokenless, new Date(0), 5, true)).toMatchObject([{ cause: 'c', deliveryError: 'this process does not post to Discord' }]);
  });
});

it('a notice message is bounded to Discord content limits', () => {
  const message = noticeMessage(notice('g', 'c', { lines: Array.from({ length: 25 }, () => 'x'.repeat(500)) }), { previousRepeats: 0 });
  expect(message.content.length).toBeLessThanOrEqual(2_000);
  expect(message.allowedMentions).toEqual({ parse: [] });
});

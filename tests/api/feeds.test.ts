/**
 * Atom feeds over real HTTP (the app in the web role, Discord over REST
 * against the emulator): the token URL, revocation, and who may read,
 * checked at every fetch: @everyone for a feed not confirmed private, the
 * admin who made it for one that was. The XML is parsed, not pattern-matched.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FeedStore } from '../../src/feeds/feed-store.ts';
import { KyselySummaryStore, type NewSummary } from '../../src/summaries/store.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';

const HOSTILE = 'Ship <script>alert("x")</script> & <![CDATA[ ]]> it\u0001 \u0007 on "Friday" 🚀 [1]';

describeEachDatabase('Atom feeds', (db) => {
  let h: ApiHarness;
  let feeds: FeedStore;
  beforeAll(async () => {
    h = await startApiHarness(db().handle);
    feeds = new FeedStore(db().handle.db);
    const store = new KyselySummaryStore(db().handle.db);
    const summary = (channelId: string, text: string, at: string): NewSummary => ({
      guildId: h.world.guild.id,
      channelId,
      firstMessageId: '1',
      lastMessageId: '9',
      messageCount: 9,
      options: { type: 'brief', perspective: 'general', category: null, locale: 'en-US' },
      requestKey: `${channelId}-${at}`,
      prompt: { level: 'default', repo: 'bundled', ref: null, commit: null, path: 'summaries/default/brief.md', tried: [], reasons: [] },
      provider: 'local',
      model: 'local-extractive',
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0,
      text,
      citations: [{ ref: 1, messageId: '5', jumpUrl: `https://discord.com/channels/${h.world.guild.id}/${channelId}/5?a=1&b=2` }],
      chunks: 1,
      warnings: [],
      createdAt: new Date(at),
      createdBy: h.world.admin.id,
    });
    await store.saveSummary(summary(h.world.general.id, HOSTILE, '2026-12-01T10:00:00Z'));
    await store.saveSummary(summary(h.world.general.id, 'second summary', '2026-12-02T10:00:00Z'));
    await store.saveSummary(summary(h.world.staff.id, 'staff only', '2026-12-02T10:00:00Z'));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  const create = (channelId: string, confirmedPrivate = false) =>
    feeds.create({ guildId: h.world.guild.id, kind: 'channel', targetId: channelId, title: 'Feed <of> "#general" & co', confirmedPrivate, createdBy: h.world.admin.id });
  const get = (token: string) => fetch(`${h.url}/feeds/${token}.atom`);

  it('serves valid Atom of the channel\'s summaries, everything escaped, at the token URL', async () => {
    const { token } = await create(h.world.general.id);
    const res = await get(token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await res.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('<script>');
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'entry' || name === 'link' }).parse(xml) as { feed: Record<string, any> };
    const feed = parsed.feed;
    expect(feed['@_xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(feed['title']['#text']).toBe('Feed <of> "#general" & co');
    expect(feed['link'].find((l: any) => l['@_rel'] === 'self')['@_href']).toBe(`https://recap.example.com/feeds/${token}.atom`);
    expect(feed['entry']).toHaveLength(2);
    const [newest, oldest] = feed['entry'];
    expect(newest['content']['#text']).toMatch(/^second summary/);
    expect(newest['updated']).toBe('2026-12-02T10:00:00.000Z');
    const content = oldest['content']['#text'] as string;
    // Characters XML cannot hold are replaced; everything else comes back as written.
    expect(content).toContain('Ship <script>alert("x")</script> & <![CDATA[ ]]> it\uFFFD \uFFFD on "Friday" 🚀 [1]');
    expect(content).toContain('[1] https://discord.com/channels/');
    expect(content).toContain('?a=1&b=2');
    expect(oldest['content']['@_type']).toBe('text');
    // The staff channel's summary is not in #general's feed.
    expect(xml).not.toContain('staff only');
  });

  it('an unknown or revoked token: 404 problem details', async () => {
    expect((await get('A'.repeat(43))).status).toBe(404);
    expect((await get('short')).status).toBe(404);
    const { token, info } = await create(h.world.general.id);
    expect((await get(token)).status).toBe(200);
    expect(await feeds.revoke(h.world.guild.id, info.id, h.world.admin.id)).toBe(true);
    const res = await get(token);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.text()).not.toContain(token);
  });

  it('a channel @everyone cannot read: refused unless confirmed private, and then only while its admin can read it', async () => {
    const unconfirmed = await create(h.world.staff.id);
    const refused = await get(unconfirmed.token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: expect.stringMatching(/feed-not-public$/) });
    const confirmed = await create(h.world.staff.id, true);
    const ok = await get(confirmed.token);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('staff only');
    h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', deny: ['ViewChannel'] });
    try {
      expect((await get(confirmed.token)).status).toBe(403);
    } finally {
      h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', allow: ['ViewChannel'] });
    }
  });

  it('a public channel that @everyone can no longer read stops being served', async () => {
    const { token } = await create(h.world.general.id);
    expect((await get(token)).status).toBe(200);
    h.discord.setOverwrite(h.world.general.id, { id: h.world.guild.id, type: 'role', deny: ['ViewChannel'] });
    try {
      expect((await get(token)).status).toBe(403);
    } finally {
      h.discord.setOverwrite(h.world.general.id, { id: h.world.guild.id, type: 'role', allow: ['ViewChannel'] });
    }
    expect((await get(token)).status).toBe(200);
  });
});

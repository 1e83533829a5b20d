/**
 * Atom feeds over real HTTP (the app in the web role, Discord over REST
 * against the emulator): the token URL, revocation, and who may read,
 * checked at every fetch: @everyone for a feed not confirmed private, the
 * admin who made it for one that was; for a digest's feed, of its source and
 * destination. The XML is parsed, not pattern-matched.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDigest, deleteDigest, finishRun, openRun, setPaused } from '../../src/digests/digest-store.ts';
import { FeedStore } from '../../src/feeds/feed-store.ts';
import { recordSummaryPost } from '../../src/summaries/history.ts';
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

  it('a database failure: a 500 problem, and the token (the feed\'s credential) in no log line', async () => {
    const { token } = await create(h.world.general.id);
    await sql`alter table feeds rename to feeds_away`.execute(db().handle.db);
    try {
      const res = await get(token);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.text()).not.toContain(token);
    } finally {
      await sql`alter table feeds_away rename to feeds`.execute(db().handle.db);
    }
    expect(h.logText()).toContain('feed request failed');
    expect(h.logText()).not.toContain(token);
    expect((await get(token)).status).toBe(200);
  });
});

describeEachDatabase('Atom feeds of a digest\'s runs', (db) => {
  let h: ApiHarness;
  let feeds: FeedStore;
  let store: KyselySummaryStore;
  let nextMessage = 900_000_000_000_000_000n;
  beforeAll(async () => {
    h = await startApiHarness(db().handle);
    feeds = new FeedStore(db().handle.db);
    store = new KyselySummaryStore(db().handle.db);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  /** A digest with runs as the delivery leaves them: the summary saved, its posted messages recorded, the run finished. */
  async function digestWithRuns(
    sourceId: string,
    destinationId: string,
    runs: Array<{ text: string; end: string; outcome?: 'posted' | 'skipped-quiet'; channels?: Array<{ channelId: string; text: string }> }>,
    sourceKind: 'channel' | 'category' = 'channel',
  ) {
    const database = db().handle.db;
    const guildId = h.world.guild.id;
    const digest = await createDigest(
      database,
      { guildId, sourceId, sourceKind, destinationId, cadence: 'daily', at: '10:00', timezone: 'UTC', skipIfQuiet: true, createdBy: h.world.admin.id, nextRunAt: new Date('2026-12-10T10:00:00Z'), windowStart: new Date('2026-11-30T10:00:00Z') },
      new Date('2026-11-30T09:00:00Z'),
    );
    const urls: string[] = [];
    for (const run of runs) {
      const end = new Date(run.end);
      const start = new Date(end.getTime() - 86_400_000);
      const opened = await openRun(database, { digestId: digest.id, guildId, dueAt: end, trigger: 'schedule', windowStart: start, windowEnd: end, jobId: `job-${digest.id}-${run.end}`, now: end });
      if (run.outcome === 'skipped-quiet') {
        await finishRun(database, opened.run.id, { outcome: 'skipped-quiet', messageCount: 0 }, end);
        continue;
      }
      const messageIds = [String(nextMessage++), String(nextMessage++)];
      // As the delivery does: each channel's summary, in order, recorded against all the run's messages.
      for (const [index, part] of (run.channels ?? [{ channelId: sourceId, text: run.text }]).entries()) {
        const summaryId = await store.saveSummary({ ...summaryOf(h, part.channelId, part.text, new Date(end.getTime() + index)), requestKey: `digest-${digest.id}-${run.end}-${index}` });
        await recordSummaryPost(database, { summaryId, guildId, channelId: destinationId, messageIds });
      }
      const url = `https://discord.com/channels/${guildId}/${destinationId}/${messageIds[0]}`;
      urls.push(url);
      await finishRun(database, opened.run.id, { outcome: 'posted', messageCount: 9, messageUrl: url }, new Date(end.getTime() + 60_000));
    }
    return { digest, urls };
  }
  const createFeed = (digestId: string, confirmedPrivate = false) =>
    feeds.create({ guildId: h.world.guild.id, kind: 'digest', targetId: digestId, title: 'Digest <b>"daily"</b> & co', confirmedPrivate, createdBy: h.world.admin.id });
  const get = (token: string) => fetch(`${h.url}/feeds/${token}.atom`);
  const parse = (xml: string) =>
    (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'entry' || name === 'link' }).parse(xml) as { feed: Record<string, any> }).feed;

  it('serves valid Atom of the digest\'s posted runs, newest first, with their summaries, everything escaped', async () => {
    const { digest, urls } = await digestWithRuns(h.world.general.id, h.world.general.id, [
      { text: HOSTILE, end: '2026-12-01T10:00:00Z' },
      { text: 'quiet day', end: '2026-12-02T10:00:00Z', outcome: 'skipped-quiet' },
      { text: 'second digest summary', end: '2026-12-03T10:00:00Z' },
    ]);
    const { token } = await createFeed(digest.id);
    const res = await get(token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await res.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain('<b>');
    const feed = parse(xml);
    expect(feed['title']['#text']).toBe('Digest <b>"daily"</b> & co');
    expect(feed['link'].find((l: any) => l['@_rel'] === 'alternate')['@_href']).toBe(`https://discord.com/channels/${h.world.guild.id}/${h.world.general.id}`);
    // The quiet run posted nothing: only the two posted runs are entries.
    expect(feed['entry']).toHaveLength(2);
    const [newest, oldest] = feed['entry'];
    expect(newest['updated']).toBe('2026-12-03T10:01:00.000Z');
    expect(newest['link'][0]['@_href']).toBe(urls[1]);
    expect(newest['title']['#text']).toBe('Digest, 2026-12-03 10:00 UTC · 9 messages');
    const newestText = newest['content']['#text'] as string;
    expect(newestText).toContain('Window: 2026-12-02 10:00 – 2026-12-03 10:00 UTC');
    expect(newestText).toContain('Messages: 9');
    expect(newestText).toContain('Outcome: posted');
    expect(newestText).toContain(`Posted: ${urls[1]}`);
    expect(newestText).toContain('#general');
    expect(newestText).toContain('second digest summary');
    const content = oldest['content']['#text'] as string;
    expect(oldest['content']['@_type']).toBe('text');
    expect(content).toContain('Ship <script>alert("x")</script> & <![CDATA[ ]]> it\uFFFD \uFFFD on "Friday" 🚀 [1]');
    expect(content).toContain('?a=1&b=2');
    expect(xml).not.toContain('quiet day');
  });

  it('a private source or destination: refused unless confirmed, then only while its admin can read them', async () => {
    const fromStaff = await digestWithRuns(h.world.staff.id, h.world.general.id, [{ text: 'staff digest text', end: '2026-12-01T10:00:00Z' }]);
    const toStaff = await digestWithRuns(h.world.general.id, h.world.staff.id, [{ text: 'posted into staff', end: '2026-12-01T10:00:00Z' }]);
    for (const { digest } of [fromStaff, toStaff]) {
      const refused = await get((await createFeed(digest.id)).token);
      expect(refused.status).toBe(403);
      const body = await refused.text();
      expect(JSON.parse(body)).toMatchObject({ type: expect.stringMatching(/feed-not-public$/) });
      expect(body).not.toContain('staff digest text');
    }
    const confirmed = await createFeed(fromStaff.digest.id, true);
    const ok = await get(confirmed.token);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('staff digest text');
    h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', deny: ['ViewChannel'] });
    try {
      expect((await get(confirmed.token)).status).toBe(403);
    } finally {
      h.discord.setOverwrite(h.world.staff.id, { id: h.world.admin.id, type: 'member', allow: ['ViewChannel'] });
    }
    expect((await get(confirmed.token)).status).toBe(200);
  });

  it('a source @everyone can no longer read stops the feed at the next fetch', async () => {
    const { digest } = await digestWithRuns(h.world.general.id, h.world.general.id, [{ text: 'public for now', end: '2026-12-01T10:00:00Z' }]);
    const { token } = await createFeed(digest.id);
    expect((await get(token)).status).toBe(200);
    h.discord.setOverwrite(h.world.general.id, { id: h.world.guild.id, type: 'role', deny: ['ViewChannel'] });
    try {
      const res = await get(token);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('public for now');
    } finally {
      h.discord.setOverwrite(h.world.general.id, { id: h.world.guild.id, type: 'role', allow: ['ViewChannel'] });
    }
  });

  it('a category digest: served while @everyone reads the category; a channel of it @everyone cannot read has its summary withheld', async () => {
    const team = h.discord.addChannel(h.world.guild.id, { kind: 'category', name: 'team' });
    const open = h.discord.addChannel(h.world.guild.id, { kind: 'text', name: 'team-open', parentId: team.id });
    const closed = h.discord.addChannel(h.world.guild.id, { kind: 'text', name: 'team-closed', parentId: team.id, overwrites: [{ id: h.world.guild.id, type: 'role', deny: ['ViewChannel'] }] });
    const { digest } = await digestWithRuns(
      team.id,
      h.world.general.id,
      [{ text: '', end: '2026-12-01T10:00:00Z', channels: [{ channelId: open.id, text: 'open team news' }, { channelId: closed.id, text: 'closed team secret' }] }],
      'category',
    );
    const res = await get((await createFeed(digest.id)).token);
    expect(res.status).toBe(200);
    const xml = await res.text();
    const [entry] = parse(xml)['entry'];
    const content = entry['content']['#text'] as string;
    expect(content).toContain('#team-open\n\nopen team news');
    expect(content).toContain('(A summary of a channel this feed may not show is withheld.)');
    expect(xml).not.toContain('closed team secret');
    expect(xml).not.toContain('team-closed');
  });

  it('revoked: 404; paused digest: past runs still served; deleted digest: 410', async () => {
    const { digest } = await digestWithRuns(h.world.general.id, h.world.general.id, [{ text: 'kept after pause', end: '2026-12-01T10:00:00Z' }]);
    const { token, info } = await createFeed(digest.id);
    const other = await createFeed(digest.id);
    expect(await feeds.revoke(h.world.guild.id, info.id, h.world.admin.id)).toBe(true);
    const revoked = await get(token);
    expect(revoked.status).toBe(404);
    expect(await revoked.text()).not.toContain(token);

    await setPaused(db().handle.db, digest.id, { paused: true, reason: 'test' }, new Date());
    const paused = await get(other.token);
    expect(paused.status).toBe(200);
    expect(await paused.text()).toContain('kept after pause');

    expect(await deleteDigest(db().handle.db, h.world.guild.id, digest.id)).toBe(true);
    const gone = await get(other.token);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ type: expect.stringMatching(/digest-deleted$/) });
  });
});

function summaryOf(h: ApiHarness, channelId: string, text: string, at: Date): NewSummary {
  return {
    guildId: h.world.guild.id,
    channelId,
    firstMessageId: '1',
    lastMessageId: '9',
    messageCount: 9,
    options: { type: 'brief', perspective: 'general', category: null, locale: 'en-US' },
    requestKey: `${channelId}-${at.toISOString()}`,
    prompt: { level: 'default', repo: 'bundled', ref: null, commit: null, path: 'summaries/default/brief.md', tried: [], reasons: [] },
    provider: 'local',
    model: 'local-extractive',
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd: 0,
    text,
    citations: [{ ref: 1, messageId: '5', jumpUrl: `https://discord.com/channels/${h.world.guild.id}/${channelId}/5?a=1&b=2` }],
    chunks: 1,
    warnings: [],
    createdAt: at,
    createdBy: h.world.admin.id,
  };
}

/**
 * Nothing is cut without a word: what /summarize reads is what was asked
 * for, or the reply says what it left out. In-process: the real discord.js
 * client, dispatcher and command against the Discord emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { fetchHistory, type HistoryItem } from '../../src/discord/history/fetch-history.ts';
import { historyCut } from '../../src/summaries/history-cut.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import type { OptionValue } from '../emulators/discord/interaction-payloads.ts';
import type { ApiMessage, InteractionHandle, StoredChannel, StoredUser } from '../emulators/discord/server.ts';
import { startInProcessBot, type InProcessBot } from './support.ts';
import { field, summaryOf } from '../helpers/discord-messages.ts';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

describe('fetchHistory: what it reads is what was asked for', () => {
  /** `total` messages one minute apart; `bot(i)` marks bot messages; pages newest first. */
  function channel(total: number, bot: (i: number) => boolean = () => false) {
    const messages = Array.from({ length: total }, (_, i) => ({ id: String(1_000 + i), createdTimestamp: NOW - (total - i) * 60_000, bot: bot(i) }));
    const fetchPage = async (request: { limit: number; before?: string }) => {
      const older = request.before === undefined ? messages : messages.filter((m) => Number(m.id) < Number(request.before));
      return older.slice(-request.limit).reverse();
    };
    return { messages, fetchPage };
  }

  it('includes the message a link points at', async () => {
    const c = channel(1_000);
    const read = await fetchHistory(c.fetchPage, { maxMessages: 10_000, fromId: '1850' });
    expect(read.messages[0]!.id).toBe('1850');
    expect(read.messages).toHaveLength(150);
    expect(read.end).toBe('window');
  });

  it('counts only the messages that will be summarized, reading on past the others', async () => {
    const c = channel(1_000, (i) => i % 2 === 1);
    const read = await fetchHistory(c.fetchPage, { maxMessages: 100, maxScanned: 1_000, counts: (m: HistoryItem & { bot: boolean }) => !m.bot });
    expect(read.messages.filter((m) => !m.bot)).toHaveLength(100);
    expect(read).toMatchObject({ end: 'count', counted: 100 });
  });

  it('stops at the most it may read, and says so, when too few messages count', async () => {
    const c = channel(5_000, (i) => i % 100 !== 0);
    const read = await fetchHistory(c.fetchPage, { maxMessages: 100, maxScanned: 1_000, counts: (m: HistoryItem & { bot: boolean }) => !m.bot });
    expect(read).toMatchObject({ end: 'scan-limit', counted: 10 });
    expect(read.messages).toHaveLength(1_000);
    expect(read.requests).toBe(10);
  });
});

describe('historyCut: the sentence that says what was left out', () => {
  const oldest = Date.UTC(2026, 11, 3, 14, 2, 30);
  it('names the window, the limit and where the summary starts', () => {
    expect(historyCut({ end: 'count', counted: 10_000, scanned: 10_000, oldestMs: oldest }, { kind: 'duration', durationMs: 14 * 86_400_000 }, 10_000)).toBe(
      'The last 14 days hold more than 10,000 messages; this covers the newest 10,000, from 3 Dec 14:02 UTC.',
    );
    expect(historyCut({ end: 'count', counted: 500, scanned: 500, oldestMs: oldest }, { kind: 'after-message' }, 500)).toBe(
      'More than 500 messages were posted from that message on; this covers the newest 500, from 3 Dec 14:02 UTC.',
    );
    expect(historyCut({ end: 'scan-limit', counted: 12, scanned: 1_200, oldestMs: oldest }, undefined, 100)).toBe(
      'Only 12 of the newest 1,200 messages are from members (the rest are from bots or have nothing to read); this covers those 12, from 3 Dec 14:02 UTC.',
    );
  });

  it('says nothing when what was asked for was read', () => {
    expect(historyCut({ end: 'count', counted: 100, scanned: 100, oldestMs: oldest }, undefined, 100)).toBeUndefined();
    expect(historyCut({ end: 'window', counted: 40, scanned: 40, oldestMs: oldest }, { kind: 'duration', durationMs: 3_600_000 }, 10_000)).toBeUndefined();
    expect(historyCut({ end: 'channel-start', counted: 4, scanned: 9, oldestMs: oldest }, undefined, 100)).toBeUndefined();
  });
});

describe('/summarize leaves nothing out silently', () => {
  let database: DatabaseHandle;
  let harness: InProcessBot;
  let echo: EchoProvider;
  let ci: StoredUser;
  let seq = 0;

  beforeAll(async () => {
    database = await createPgliteDatabase();
    echo = new EchoProvider('echo', 'echo-large', 2_000_000);
    harness = await startInProcessBot({ database, provider: echo, progressIntervalMs: 0 });
    ci = harness.discord.addUser({ username: 'ci', bot: true });
    harness.discord.addMember(harness.world.guild.id, ci.id);
  });

  afterAll(async () => {
    await harness?.close();
    await database?.close();
  });

  const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${harness.world.guild.id}/${channelId}/${messageId}`;
  const footerOf = (messages: ApiMessage[]) => messages.flatMap((m) => m.embeds).find((e) => e.footer)!.footer!.text;

  function freshChannel(): StoredChannel {
    return harness.discord.addChannel(harness.world.guild.id, { kind: 'text', name: `cut-${++seq}`, parentId: harness.world.category.id });
  }

  function run(options: Record<string, OptionValue>, channelId = harness.world.general.id): InteractionHandle {
    return harness.discord.sendInteraction({ type: 'command', name: 'summarize', userId: harness.world.alice.id, channelId, options });
  }

  it('a `since` window holding more than 10,000 messages: the reply, the notes and the footer say what it covers', async () => {
    const channel = freshChannel();
    const spacing = 20_000;
    const seeded = harness.discord.seedMessages(channel.id, 10_050, { authorIds: [harness.world.alice.id, harness.world.bob.id], spacingMs: spacing });
    const firstCovered = seeded[50]!;
    const from = new Date(Date.parse(firstCovered.timestamp));
    const stamp = `${from.getUTCDate()} ${from.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' })} ${String(from.getUTCHours()).padStart(2, '0')}:${String(from.getUTCMinutes()).padStart(2, '0')} UTC`;
    const notice = `The last 14 days hold more than 10,000 messages; this covers the newest 10,000, from ${stamp}.`;

    const handle = run({ channel: channel.id, since: '14d' });
    const messages = await summaryOf(handle, 120_000);
    expect(handle.original!.content).toContain(notice);
    expect(field(messages.at(-1)!, 'Notes')).toContain(notice);
    expect(footerOf(messages)).toContain(notice);
    expect(footerOf(messages)).toContain('10,000 messages');
  }, 180_000);

  it('`messages:N` means N messages from members, reading past bot messages', async () => {
    const channel = freshChannel();
    const { alice, bob } = harness.world;
    const now = Date.now();
    harness.discord.seedMessages(
      channel.id,
      Array.from({ length: 20 }, (_, i) => ({ authorId: i % 2 === 0 ? ci.id : i % 4 === 1 ? alice.id : bob.id, content: i % 2 === 0 ? `build ${i} passed` : `member note ${i}`, at: now - (20 - i) * 60_000 })),
    );
    const before = echo.calls.length;
    const handle = run({ channel: channel.id, messages: 6 });
    const messages = await summaryOf(handle);
    expect(handle.original!.content).toContain('Summarized 6 messages');
    expect(footerOf(messages)).toContain('· 6 messages ·');
    const transcript = echo.calls[before]!.turns[0]!.content;
    expect(transcript).not.toContain('build');
    expect(transcript).toContain('member note 9');
    expect(transcript).toContain('member note 19');
  });

  it('a channel of bot messages with a few from members: says how few, without reading forever', async () => {
    const channel = freshChannel();
    const now = Date.now();
    harness.discord.seedMessages(
      channel.id,
      Array.from({ length: 1_500 }, (_, i) => ({ authorId: i % 500 === 0 ? harness.world.alice.id : ci.id, content: `line ${i}`, at: now - (1_500 - i) * 1_000 })),
    );
    const handle = run({ channel: channel.id, messages: 50 });
    const messages = await summaryOf(handle, 60_000);
    expect(handle.original!.content).toMatch(/Only 2 of the newest 1,100 messages are from members/);
    expect(footerOf(messages)).toMatch(/Only 2 of the newest 1,100 messages are from members/);

    // Shown privately, the summary itself opens with the sentence.
    const privately = run({ channel: channel.id, messages: 50, private: true, type: 'detailed' });
    const shown = await summaryOf(privately, 60_000);
    expect(shown[0]!.content).toMatch(/^Only 2 of the newest 1,100 messages are from members .*this covers those 2, from /);
    expect(footerOf(shown)).toMatch(/Only 2 of the newest 1,100 messages are from members/);
  });

  it('`since:<message link>` includes the linked message', async () => {
    const channel = freshChannel();
    const now = Date.now();
    const ids = harness.discord
      .seedMessages(channel.id, ['one', 'two', 'three', 'four'].map((text, i) => ({ authorId: harness.world.alice.id, content: `point ${text}`, at: now - (4 - i) * 60_000 })))
      .map((m) => m.id);
    const before = echo.calls.length;
    const messages = await summaryOf(run({ since: jump(channel.id, ids[1]!) }));
    expect(footerOf(messages)).toContain('· 3 messages ·');
    const transcript = echo.calls[before]!.turns[0]!.content;
    expect(transcript).toContain('point two');
    expect(transcript).not.toContain('point one');
  });

  it('an embed keeps its title, description and fields', async () => {
    const channel = freshChannel();
    harness.discord.seedMessages(channel.id, [
      {
        authorId: harness.world.bob.id,
        content: 'see the incident',
        embeds: [{ title: 'Incident 42', description: 'Checkout errors for EU users', fields: [{ name: 'Status', value: 'mitigated' }] }],
      },
    ]);
    const before = echo.calls.length;
    await summaryOf(run({ channel: channel.id }));
    expect(echo.calls[before]!.turns[0]!.content).toContain('bob: see the incident [embed: Incident 42 — Checkout errors for EU users — Status: mitigated]');
  });

  it('a thread started from a message opens with that message', async () => {
    const channel = freshChannel();
    const { alice, bob } = harness.world;
    const now = Date.now();
    const [question] = harness.discord.seedMessages(channel.id, [{ authorId: alice.id, content: 'Why does the nightly export time out?', at: now - 600_000 }]);
    const thread = harness.discord.startThread(channel.id, question!.id, { name: 'export timeouts', ownerId: alice.id });
    harness.discord.seedMessages(thread.id, [
      { authorId: bob.id, content: 'The query scans the whole audit table.', at: now - 300_000 },
      { authorId: alice.id, content: 'Adding an index then.', at: now - 120_000 },
    ]);
    const before = echo.calls.length;
    const messages = await summaryOf(run({ channel: thread.id }));
    const call = echo.calls[before]!;
    expect(call.refs).toEqual([1, 2, 3]);
    const lines = call.turns[0]!.content.split('\n').filter((l) => /^\[\d+\]/.test(l));
    expect(lines[0]).toMatch(/^\[1\] .* Ally: Why does the nightly export time out\?$/);
    expect(lines[1]).toContain('The query scans the whole audit table.');
    // Its citation links to the question where it was asked, in the parent channel.
    const text = messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n');
    expect(text).toContain(`[[1]](${jump(channel.id, question!.id)})`);
  });
});

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportError, importDiscordChatExporter, type ImportResult } from '../../src/conversation/dce-importer.ts';
import type { Message } from '../../src/conversation/model.ts';
import { dceExport, dceMessage, HEADER, writeLargeExport } from './export-builder.ts';
import { sampleExportText } from '../../examples/make-sample-export.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/exports/${name}`, import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../examples/sample-export.json', import.meta.url));

function byId(result: ImportResult, id: string): Message {
  const found = result.conversation.messages.find((m) => m.id === id);
  if (!found) throw new Error(`message ${id} not imported`);
  return found;
}

async function importError(input: Parameters<typeof importDiscordChatExporter>[0], options?: Parameters<typeof importDiscordChatExporter>[1]): Promise<ImportError> {
  try {
    await importDiscordChatExporter(input, options);
  } catch (error) {
    if (error instanceof ImportError) return error;
    throw error;
  }
  throw new Error('expected the import to fail');
}

describe('importDiscordChatExporter: real-export quirks', () => {
  let result: ImportResult;
  beforeAll(async () => {
    result = await importDiscordChatExporter(fixture('quirks.json'));
  });

  it('reads the channel and guild into the source', () => {
    expect(result.conversation.source).toEqual({
      guildId: '810000000000000001',
      guildName: 'Fixture Guild',
      channelId: '810000000000000002',
      channelName: 'dev-chat',
      channelCategory: 'Engineering',
    });
    expect(result.export).toMatchObject({ channelType: 'GuildTextChat', exportedAt: '2024-03-02T00:00:00+00:00', declaredMessageCount: 19 });
  });

  it('keeps the first copy of a duplicated id and counts the rest', () => {
    expect(result.stats.messagesRead).toBe(19);
    expect(result.stats.duplicatesDropped).toBe(1);
    const copies = result.conversation.messages.filter((m) => m.id === '1210000000000000001');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.content).toContain('Release 2.4 planning');
  });

  it('falls back to the username when the nickname is missing or null', () => {
    expect(byId(result, '1210000000000000001').author.displayName).toBe('Alice');
    expect(byId(result, '1210000000000000002').author.displayName).toBe('bob');
    expect(byId(result, '1210000000000000004').author.displayName).toBe('cara');
  });

  it('tolerates null in every optional field', () => {
    const m = byId(result, '1210000000000000003');
    expect(m).toMatchObject({ content: '', attachments: [], embeds: [], stickers: [], reactions: [], mentions: [] });
    expect(m.replyTo).toBeUndefined();
  });

  it('keeps deleted users as distinct authors', () => {
    const a = byId(result, '1210000000000000006').author;
    const b = byId(result, '1210000000000000007').author;
    expect(a).toEqual({ id: '456226577798135808', displayName: 'Deleted User', bot: false });
    expect(b.id).toBe('456226577798135809');
  });

  it('keeps attachments and stickers that come without text', () => {
    expect(byId(result, '1210000000000000004').attachments).toEqual([
      { fileName: 'photo.png', url: 'https://cdn.discordapp.com/attachments/810000000000000002/1210000000000000904/photo.png', sizeBytes: 48213 },
    ]);
    expect(byId(result, '1210000000000000005').stickers).toEqual([{ name: 'wave' }]);
  });

  it('drops joins, boosts and calls with a reason, and keeps pins and thread starts as notices', () => {
    expect(result.stats.skipped.map((s) => [s.reason, s.count, s.firstMessageId])).toEqual([
      ['system message (GuildMemberJoin)', 1, '1210000000000000008'],
      ['system message (8)', 1, '1210000000000000009'],
      ['system message (Call)', 1, '1210000000000000010'],
    ]);
    expect(byId(result, '1210000000000000011')).toMatchObject({ notice: 'pinned a message', replyTo: '1210000000000000006', content: '' });
    const thread = byId(result, '1210000000000000012');
    expect(thread.notice).toBe('started a thread');
    expect(thread.replyTo).toBeUndefined();
  });

  it('reads naive timestamps as UTC and warns once with a count', () => {
    expect(byId(result, '1210000000000000013').timestamp).toBe(Date.UTC(2024, 2, 1, 10, 12, 0));
    expect(byId(result, '1210000000000000014').timestamp).toBe(Date.UTC(2024, 2, 1, 10, 13, 0, 500));
    expect(result.stats.warnings).toEqual([
      { code: 'naive-timestamp', message: 'timestamp "2024-03-01T10:12:00" has no time zone; read as UTC', occurrences: 2, firstMessageIndex: 13 },
    ]);
  });

  it('converts offsets and seven-digit fractions to epoch milliseconds', () => {
    expect(byId(result, '1210000000000000001').timestamp).toBe(Date.UTC(2024, 2, 1, 10, 0, 0, 123));
    expect(byId(result, '1210000000000000002').timestamp).toBe(Date.UTC(2024, 2, 1, 10, 1, 0));
  });

  it('reads standard and custom emoji reactions', () => {
    expect(byId(result, '1210000000000000001').reactions).toEqual([
      { emoji: '👍', count: 3 },
      { emoji: ':partyparrot:', count: 2 },
    ]);
  });

  it('reads replies and mentions, and does not take a forward for a reply', () => {
    expect(byId(result, '1210000000000000002').replyTo).toBe('1210000000000000001');
    expect(byId(result, '1210000000000000017').replyTo).toBe('1200000000000000001');
    expect(byId(result, '1210000000000000001').mentions).toEqual([{ id: '100000000000000002', displayName: 'Bobby' }]);
    const forwarded = byId(result, '1210000000000000016');
    expect(forwarded.replyTo).toBeUndefined();
    expect(forwarded.content).toBe('[forwarded] the original announcement');
  });

  it('marks bots and keeps their embeds', () => {
    const m = byId(result, '1210000000000000015');
    expect(m.author.bot).toBe(true);
    expect(m.embeds).toEqual([{ title: 'v2.4.0-rc.1 published', description: 'Release candidate', url: 'https://example.org/releases/2.4.0-rc.1', fields: [{ name: 'Tag', value: 'v2.4.0-rc.1' }] }]);
  });

  it('builds jump URLs from the guild, channel and message ids', () => {
    expect(byId(result, '1210000000000000002').jumpUrl).toBe('https://discord.com/channels/810000000000000001/810000000000000002/1210000000000000002');
    expect(result.conversation.messages.every((m) => m.jumpUrl?.endsWith(`/${m.id}`))).toBe(true);
  });

  it('collects names for ids that member text may mention', () => {
    expect(result.conversation.names?.users?.['100000000000000002']).toBe('Bobby');
    expect(result.conversation.names?.roles).toEqual({ '700000000000000010': 'Maintainers' });
    expect(result.conversation.names?.channels).toEqual({ '810000000000000002': 'dev-chat' });
  });

  it('shares one author object per user', () => {
    const alice = result.conversation.messages.filter((m) => m.author.id === '100000000000000001').map((m) => m.author);
    expect(alice.length).toBeGreaterThan(1);
    expect(new Set(alice).size).toBe(1);
  });
});

describe('importDiscordChatExporter: kinds of channel and versions', () => {
  it('keeps file order (preparation sorts) for an export written newest first', async () => {
    const result = await importDiscordChatExporter(fixture('newest-first.json'));
    expect(result.conversation.messages.map((m) => m.id)).toEqual(['1000000000000000000', '999999999999999999', '1210000000000000200', '1210000000000000300']);
  });

  it('links direct messages through @me and has no guild', async () => {
    const result = await importDiscordChatExporter(fixture('direct-messages.json'));
    expect(result.conversation.source.guildId).toBeUndefined();
    expect(result.conversation.messages[0]!.jumpUrl).toBe('https://discord.com/channels/@me/820000000000000002/1220000000000000001');
  });

  it('maps a thread export to its parent channel plus the thread, and links through the thread', async () => {
    const result = await importDiscordChatExporter(fixture('thread.json'));
    expect(result.conversation.source).toMatchObject({
      channelId: '810000000000000002',
      channelName: 'dev-chat',
      threadId: '830000000000000050',
      threadName: 'Release 2.4 checklist',
    });
    expect(result.conversation.source.channelCategory).toBeUndefined();
    const first = result.conversation.messages[0]!;
    expect(first.threadId).toBe('830000000000000050');
    expect(first.jumpUrl).toBe('https://discord.com/channels/810000000000000001/830000000000000050/1230000000000000001');
  });

  it('reads the 2020 layout (no nickname, stickers or messageCount; null emoji id)', async () => {
    const result = await importDiscordChatExporter(fixture('legacy-2020.json'));
    expect(result.stats.warnings).toEqual([]);
    expect(result.conversation.messages).toEqual([
      expect.objectContaining({
        id: '700000000000000101',
        author: { id: '100000000000000001', displayName: 'alice', bot: false },
        timestamp: Date.UTC(2020, 4, 1, 8, 0, 0, 123),
        reactions: [{ emoji: '👍', count: 1 }],
        stickers: [],
      }),
    ]);
  });

  it('imports an export with no messages', async () => {
    const result = await importDiscordChatExporter(fixture('empty.json'));
    expect(result.conversation.messages).toEqual([]);
    expect(result.stats).toMatchObject({ messagesRead: 0, imported: 0 });
  });

  it('reads from a stream as well as from a path', async () => {
    const bytes = await readFile(fixture('only-bots.json'));
    const result = await importDiscordChatExporter(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), { sourceName: 'upload.json' });
    expect(result.conversation.messages.map((m) => m.content)).toEqual(['Build #12 passed', 'Build #13 passed']);
  });

  it('accepts a UTF-8 byte-order mark', async () => {
    const bytes = await readFile(fixture('empty.json'));
    const result = await importDiscordChatExporter(Readable.from([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes])]));
    expect(result.conversation.source.channelName).toBe('dev-chat');
  });

  it('warns when messageCount disagrees with the messages read', async () => {
    const text = JSON.stringify({ ...dceExport([]), messageCount: 5 });
    const result = await importDiscordChatExporter(Readable.from([text]));
    expect(result.stats.warnings.map((w) => w.code)).toEqual(['message-count-mismatch']);
  });
});

describe('importDiscordChatExporter: inputs that are not exports', () => {
  it('says where JSON stops when the file is truncated, and how much was read', async () => {
    const error = await importError(fixture('truncated.json'));
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(/^truncated\.json: the JSON ends unexpectedly after byte 6505, inside messages\[7\]\.content; the file looks truncated \(7 messages read before the end, the last with id 1280000000000000006\)$/);
    expect(error.details).toMatchObject({ source: 'truncated.json', byteOffset: 6505, messagesRead: 7 });
  });

  it('rejects text that is not JSON, naming the first byte', async () => {
    const error = await importError(fixture('not-json.json'));
    expect(error.code).toBe('not-json');
    expect(error.message).toBe('not-json.json: not JSON: byte 0 is \'G\' where a JSON object was expected (the file starts with "Guild: Fixture Guild?Cha")');
    expect(error.details.byteOffset).toBe(0);
  });

  it.each<[string, () => Parameters<typeof importDiscordChatExporter>[0], ImportError['code'], string]>([
    ["recognises the exporter's HTML format and says how to get JSON", () => fixture('html-export.json'), 'not-json', 'this looks like a DiscordChatExporter HTML export: export the channel again with the JSON format (--format Json)'],
    ['recognises gzip', () => Readable.from([Buffer.from([0x1f, 0x8b, 0x08, 0x00])]), 'not-json', 'gzip-compressed'],
    ['rejects an empty file', () => Readable.from([Buffer.alloc(0)]), 'not-json', 'the file is empty'],
    ['rejects a top-level array and says what an export looks like', () => fixture('array-of-messages.json'), 'wrong-format', 'the top level is an array; a DiscordChatExporter JSON export is an object with "guild", "channel" and "messages"'],
    ['rejects another JSON object early, listing its keys', () => fixture('other-object.json'), 'wrong-format', 'its top-level keys start with "version", "conversations"'],
    ['rejects an export-like object without messages', () => fixture('no-messages.json'), 'wrong-format', 'this JSON object has no "messages" (its top-level keys: "guild", "channel", "dateRange", "exportedAt", "messageCount")'],
    ['rejects messages that are not an array', () => Readable.from([JSON.stringify({ ...HEADER, messages: {} })]), 'wrong-format', '"messages" is an object; expected an array of messages'],
  ])('%s', async (_name, input, code, says) => {
    const error = await importError(input());
    expect(error.code).toBe(code);
    expect(error.message).toContain(says);
  });

  it('locates a syntax error by byte range and by message', async () => {
    const error = await importError(fixture('syntax-error.json'));
    expect(error.code).toBe('not-json');
    expect(error.message).toMatch(/invalid JSON between bytes 0 and \d+, inside messages\[3\] \(expected an object key\); 3 messages read before it, the last with id 1290000000000000002$/);
  });

  it('names the message and field when an id is missing', async () => {
    const error = await importError(fixture('missing-id.json'));
    expect(error.code).toBe('invalid-message');
    expect(error.message).toBe('missing-id.json: messages[1] has no "id" (missing); every exported message has one');
    expect(error.details).toMatchObject({ messageIndex: 1, field: 'id' });
  });

  it('names the message, field and value when a timestamp cannot be read', async () => {
    const error = await importError(fixture('bad-timestamp.json'));
    expect(error.code).toBe('invalid-message');
    expect(error.message).toContain('messages[2] (id 1270000000000000003) has "timestamp" "01/03/2024 10:02", which is not an ISO-8601 date-time');
    expect(error.details).toMatchObject({ messageIndex: 2, messageId: '1270000000000000003', field: 'timestamp' });
  });

  it('rejects an id that is not a Discord id', async () => {
    const raw = dceMessage({ id: 'abc', timestamp: '2024-03-01T10:00:00+00:00', content: 'x', author: { id: '1', name: 'a' } });
    const error = await importError(Readable.from([JSON.stringify(dceExport([raw]))]));
    expect(error.message).toContain('messages[0] has "id" "abc"; expected a Discord id (digits only)');
  });

  it('stops at the message limit with a clear error', async () => {
    const error = await importError(SAMPLE, { maxMessages: 50 });
    expect(error.code).toBe('too-many-messages');
    expect(error.message).toContain('the export holds more than 50 messages, the import limit');
    expect(error.details.messagesRead).toBe(50);
  });

  it('refuses a string longer than the value limit, naming where it starts', async () => {
    const raw = dceMessage({ id: '1', timestamp: '2024-03-01T10:00:00+00:00', content: 'x'.repeat(5000), author: { id: '1', name: 'a' } });
    const text = JSON.stringify(dceExport([raw]));
    const error = await importError(Readable.from([text]), { maxValueBytes: 4096 });
    expect(error.code).toBe('too-large');
    expect(error.details.byteOffset).toBe(Buffer.byteLength(text.slice(0, text.indexOf('"xxx'))));
  });

  it('reports a missing file as an input error', async () => {
    const error = await importError(fixture('does-not-exist.json'));
    expect(error.code).toBe('io');
    expect(error.message).toContain('does-not-exist.json: cannot read the export');
  });
});

describe('importDiscordChatExporter: large exports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dce-large-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams 50,000 messages with bounded heap growth', { timeout: 120_000 }, async () => {
    const path = join(dir, 'large.json');
    const start = Date.UTC(2024, 0, 1);
    const authors = Array.from({ length: 12 }, (_, i) => ({ id: String(100000000000000000n + BigInt(i)), name: `member${i}` }));
    await writeLargeExport(path, 50_000, (i) => ({
      id: ((BigInt(start + i * 1000) - 1420070400000n) << 22n).toString(),
      timestamp: new Date(start + i * 1000).toISOString().replace('Z', '+00:00'),
      content: `message ${i}: we should look at the release checklist again before Friday, and the flaky test in sync`,
      author: authors[i % authors.length]!,
      reactors: i % 10 === 0 ? 25 : 0,
    }));
    const fileBytes = (await stat(path)).size;
    expect(fileBytes).toBeGreaterThan(80 * 1024 * 1024);

    const gc = exposeGc();
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let reports = 0;
    const result = await importDiscordChatExporter(path, {
      progressEvery: 500,
      onProgress: ({ messagesRead, bytesRead }) => {
        reports++;
        expect(messagesRead).toBe(reports * 500);
        expect(bytesRead).toBeLessThanOrEqual(fileBytes);
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      },
    });
    expect(reports).toBe(100);
    gc();
    const retained = process.memoryUsage().heapUsed - before;

    expect(result.stats).toMatchObject({ messagesRead: 50_000, imported: 50_000, duplicatesDropped: 0, warnings: [], bytesRead: fileBytes });
    expect(result.conversation.messages[49_999]!.content).toContain('message 49999');
    // A whole-file parse would need several times the file size; streaming needs the messages only.
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    expect(retained).toBeLessThan(100 * 1024 * 1024);
  });

  it('can be cancelled', async () => {
    const path = join(dir, 'cancel.json');
    await writeLargeExport(path, 2_000, (i) => ({ id: String(1000 + i), timestamp: '2024-03-01T10:00:00+00:00', content: `m${i}`, author: { id: '5', name: 'e' } }));
    const controller = new AbortController();
    const run = importDiscordChatExporter(path, { signal: controller.signal, progressEvery: 100, onProgress: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('stops reading a large file as soon as the limit is passed', async () => {
    const path = join(dir, 'limit.json');
    await writeLargeExport(path, 2_000, (i) => ({ id: String(1000 + i), timestamp: '2024-03-01T10:00:00+00:00', content: `m${i}`, author: { id: '5', name: 'e' } }));
    const error = await importError(path, { maxMessages: 100 });
    expect(error.code).toBe('too-many-messages');
    expect(error.details.messagesRead).toBe(100);
  });
});

describe('the sample export', () => {
  it('imports cleanly', async () => {
    const result = await importDiscordChatExporter(SAMPLE);
    expect(result.stats.warnings).toEqual([]);
    expect(result.stats.duplicatesDropped).toBe(0);
    expect(result.stats.skipped).toEqual([expect.objectContaining({ reason: 'system message (GuildMemberJoin)', count: 1 })]);
    expect(result.stats.imported).toBeGreaterThanOrEqual(110);
    expect(result.conversation.source).toEqual({
      guildId: '1097362114512003072',
      guildName: 'Driftwood',
      channelId: '1097364402886516767',
      channelName: 'dev-chat',
      channelCategory: 'Engineering',
    });
    const people = new Set(result.conversation.messages.filter((m) => !m.author.bot).map((m) => m.author.displayName));
    expect(people).toEqual(new Set(['Maya', 'Jonas', 'Priya', 'theo_m', 'Sam', 'Ren', 'Lena', 'Deleted User']));
    expect(result.conversation.messages.some((m) => m.author.bot)).toBe(true);
  });

  it('is exactly what its generator writes', async () => {
    expect(sampleExportText()).toBe(await readFile(SAMPLE, 'utf8'));
  });
});

/** A garbage-collection trigger without needing `--expose-gc` on the command line. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

import { sql, type Kysely } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';
import { KyselyChatMemoryStore, KyselySummaryStore, type NewSummary, type SummaryStore } from '../../src/summaries/store.ts';
import { ProcessSummaryStore } from '../../src/summaries/process-store.ts';
import { detachedDb } from '../../src/db/detached.ts';
import type { Database } from '../../src/db/schema.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

const summary = (requestKey: string, text: string): NewSummary => ({
  guildId: 'g1',
  channelId: 'c1',
  firstMessageId: '1',
  lastMessageId: '9',
  messageCount: 9,
  options: { type: 'brief', perspective: 'general', category: null, locale: 'de' },
  requestKey,
  prompt: { level: 'default', repo: 'bundled', ref: null, commit: 'abc', path: 'summaries/default/brief.md', tried: ['a.md'], reasons: [{ level: 'custom', reason: 'none' }] },
  provider: 'echo',
  model: 'echo-1',
  usage: { inputTokens: 120, outputTokens: 30 },
  costUsd: 0.001234,
  text,
  citations: [{ ref: 3, messageId: '3', jumpUrl: 'https://discord.com/channels/1/2/3' }],
  chunks: 2,
  warnings: ['w'],
  createdAt: new Date('2024-03-01T10:00:00Z'),
  createdBy: 'u1',
});

/** What the summarizer relies on from any SummaryStore. */
function summaryStoreContract(makeStore: () => SummaryStore): void {
  it('stores a summary once per request key and reads it back whole', async () => {
    const store = makeStore();
    const id = await store.saveSummary(summary('key-1', 'first'));
    // A racing identical request keeps the first answer.
    expect(await store.saveSummary(summary('key-1', 'second'))).toBe(id);
    const found = await store.findSummary('key-1');
    expect(found).toEqual({ ...summary('key-1', 'first'), id });
    expect(await store.findSummary('key-2')).toBeUndefined();
  });

  it('replaces a stored summary and a stored partial only when told to, keeping the summary\'s id', async () => {
    const store = makeStore();
    const id = await store.saveSummary({ ...summary('key-r', 'by the fallback'), provider: 'local', model: 'local-extractive' });
    expect(await store.saveSummary({ ...summary('key-r', 'by the preferred'), provider: 'anthropic', model: 'claude' }, { replace: true })).toBe(id);
    expect(await store.findSummary('key-r')).toMatchObject({ id, text: 'by the preferred', provider: 'anthropic', model: 'claude' });

    await store.saveChunk('chunk-r', { text: 'fallback part', provider: 'local', model: 'l', tokens: 3 });
    await store.saveChunk('chunk-r', { text: 'racing part', provider: 'local', model: 'l', tokens: 3 });
    expect((await store.findChunks(['chunk-r'])).get('chunk-r')?.text).toBe('fallback part');
    await store.saveChunk('chunk-r', { text: 'preferred part', provider: 'anthropic', model: 'claude', tokens: 4 }, { replace: true });
    expect((await store.findChunks(['chunk-r'])).get('chunk-r')).toEqual({ text: 'preferred part', provider: 'anthropic', model: 'claude', tokens: 4 });
  });
}

describeEachDatabase('engine store', (database) => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = database().handle.db;
  });

  summaryStoreContract(() => new KyselySummaryStore(db));

  it('finds stored partials in batches and prunes old ones', async () => {
    const store = new KyselySummaryStore(db);
    const keys = Array.from({ length: 620 }, (_, i) => `chunk-${i}`);
    for (const key of keys.slice(0, 3)) await store.saveChunk(key, { text: `t ${key}`, provider: 'p', model: 'm', tokens: 7 });
    await store.saveChunk('chunk-0', { text: 'again', provider: 'p', model: 'm', tokens: 1 });
    const found = await store.findChunks([...keys, 'chunk-600']);
    expect([...found.keys()].sort()).toEqual(['chunk-0', 'chunk-1', 'chunk-2']);
    expect(found.get('chunk-0')).toEqual({ text: 't chunk-0', provider: 'p', model: 'm', tokens: 7 });
    expect(await store.pruneChunks(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(3);
    expect((await store.findChunks(['chunk-0'])).size).toBe(0);
  });

  it('keeps chat memory per channel, survives a hand-edited row, and forgets on clear', async () => {
    const store = new KyselyChatMemoryStore(db);
    const memory = { runningSummary: 's', turns: [{ role: 'user' as const, author: 'Ann', content: 'hi', at: 1 }, { role: 'assistant' as const, content: 'hello', at: 2 }], tokens: 3 };
    await store.save('g1', 'c1', memory, new Date());
    await store.save('g1', 'c2', { runningSummary: '', turns: [], tokens: 0 }, new Date());
    expect(await store.load('g1', 'c1')).toEqual(memory);
    await store.save('g1', 'c1', { ...memory, runningSummary: 'updated' }, new Date());
    expect((await store.load('g1', 'c1'))!.runningSummary).toBe('updated');

    await sql`update chat_memory set turns = '[{"role":"system","content":"x"},{"role":"user","content":5},{"role":"user","content":"ok"}]'::jsonb where channel_id = 'c2'`.execute(db);
    expect((await store.load('g1', 'c2'))!.turns).toEqual([{ role: 'user', content: 'ok', at: 0 }]);

    expect(await store.clear('g1', 'c1')).toBe(true);
    expect(await store.load('g1', 'c1')).toBeUndefined();
    expect(await store.load('g1', 'c2')).toBeDefined();
  });

  it('migrates down and up again', async () => {
    // Later migrations refer to summaries, so down means down through them too.
    const down = await createMigrator(db).migrateTo('0003_llm_usage');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => r.migrationName)).toContain('0004_summaries_and_chat');
    const { rows } = await sql<{ found: string | null }>`select to_regclass('public.summaries')::text as found`.execute(db);
    expect(rows[0]!.found).toBeNull();
    await migrateToLatest(db);
    expect(await new KyselySummaryStore(db).findSummary('nothing')).toBeUndefined();
  });
});

describe('the in-process summary store (a run without a database)', () => {
  summaryStoreContract(() => new ProcessSummaryStore());
});

describe('the detached database', () => {
  it('finds no rows and keeps no writes, as an empty database would on a first start', async () => {
    const db = detachedDb();
    await db.insertInto('chat_memory').values({ guild_id: 'g', channel_id: 'c', running_summary: '', turns: '[]', tokens: 0 }).execute();
    expect(await db.selectFrom('chat_memory').selectAll().execute()).toEqual([]);
    expect(await new KyselySummaryStore(db).findSummary('key')).toBeUndefined();
    expect(await new KyselyChatMemoryStore(db).load('g', 'c')).toBeUndefined();
  });
});

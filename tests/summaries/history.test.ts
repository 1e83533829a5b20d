/**
 * Summary history over real Postgres and PGlite: posts recorded and linked,
 * listing filtered to readable channels and a time window, a page at a
 * time, deletion forgetting summaries, and the retention prune covering
 * summaries, their posts and `summary_chunks`. Also the prune registered on
 * the real job queue.
 */
import { expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { forgetDeletedSummaries, findGuildSummary, listSummaries, pruneSummaryHistory, recordSummaryPost } from '../../src/summaries/history.ts';
import { KyselySummaryStore, type NewSummary } from '../../src/summaries/store.ts';
import { registerSummaryPrune, PRUNE_JOB } from '../../src/summaries/prune-job.ts';
import { DurableJobQueue } from '../../src/jobs/durable-queue.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { systemClock } from '../../src/resilience/clock.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-12-06T12:00:00Z');

function summary(guildId: string, channelId: string, createdAt: Date, text = 'text'): NewSummary {
  return {
    guildId,
    channelId,
    firstMessageId: '1',
    lastMessageId: '2',
    messageCount: 2,
    options: { type: 'brief', perspective: 'general', category: 'discussion', locale: 'en-US' } as NewSummary['options'],
    requestKey: randomUUID(),
    prompt: { level: 'default', path: 'summaries/discussion/brief.md', tried: [], reasons: [] } as unknown as NewSummary['prompt'],
    provider: 'local',
    model: 'local-extractive',
    usage: { inputTokens: 10, outputTokens: 5 },
    costUsd: 0.0042,
    text,
    citations: [],
    chunks: 1,
    warnings: [],
    createdAt,
    createdBy: 'u1',
  };
}

describeEachDatabase('summary history', (database) => {
  const db = () => database().handle.db;

  it('lists only the given channels, newest first, within a window, a page at a time, with the newest post', async () => {
    const guild = `g-${randomUUID()}`;
    const store = new KyselySummaryStore(db());
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await store.saveSummary(summary(guild, i % 2 === 0 ? 'open' : 'secret', new Date(NOW.getTime() - i * DAY))));
    await store.saveSummary(summary(`other-${guild}`, 'open', NOW));
    await recordSummaryPost(db(), { summaryId: ids[0]!, guildId: guild, channelId: 'open', messageIds: ['m1', 'm2'] });

    const open = await listSummaries(db(), { guildId: guild, channelIds: ['open'], limit: 4, offset: 0 });
    expect(open.total).toBe(6);
    expect(open.entries.map((e) => e.id)).toEqual([ids[0], ids[2], ids[4], ids[6]]);
    expect(open.entries[0]!.post).toMatchObject({ channelId: 'open', messageId: 'm1' });
    expect(open.entries[1]!.post).toBeNull();
    expect(open.entries[0]!.costUsd).toBeCloseTo(0.0042);
    const page2 = await listSummaries(db(), { guildId: guild, channelIds: ['open'], limit: 4, offset: 4 });
    expect(page2.entries.map((e) => e.id)).toEqual([ids[8], ids[10]]);

    const windowed = await listSummaries(db(), { guildId: guild, channelIds: ['open', 'secret'], from: new Date(NOW.getTime() - 3.5 * DAY), to: new Date(NOW.getTime() - 0.5 * DAY), limit: 10, offset: 0 });
    expect(windowed.entries.map((e) => e.id)).toEqual([ids[1], ids[2], ids[3]]);
    expect((await listSummaries(db(), { guildId: guild, channelIds: [], limit: 10, offset: 0 })).total).toBe(0);
  });

  it('finds one by id or 8-character prefix within its guild only', async () => {
    const guild = `g-${randomUUID()}`;
    const id = await new KyselySummaryStore(db()).saveSummary(summary(guild, 'open', NOW, 'the text'));
    expect(await findGuildSummary(db(), guild, id)).toMatchObject({ id, text: 'the text', channelId: 'open' });
    expect(await findGuildSummary(db(), guild, id.slice(0, 8).toUpperCase())).toMatchObject({ id });
    expect(await findGuildSummary(db(), 'another-guild', id)).toBeUndefined();
    expect(await findGuildSummary(db(), guild, "'; drop table summaries; --")).toBeUndefined();
    expect(await findGuildSummary(db(), guild, '%%%%%%%%')).toBeUndefined();
  });

  it('a deleted post message forgets its summary, other posts of it included; unknown ids change nothing', async () => {
    const guild = `g-${randomUUID()}`;
    const store = new KyselySummaryStore(db());
    const kept = await store.saveSummary(summary(guild, 'open', NOW));
    const gone = await store.saveSummary(summary(guild, 'open', NOW));
    await recordSummaryPost(db(), { summaryId: kept, guildId: guild, channelId: 'open', messageIds: ['k1'] });
    await recordSummaryPost(db(), { summaryId: gone, guildId: guild, channelId: 'open', messageIds: ['d1', 'd2'] });
    await recordSummaryPost(db(), { summaryId: gone, guildId: guild, channelId: 'elsewhere', messageIds: ['d3'] });
    expect(await forgetDeletedSummaries(db(), ['nope', 'd2'])).toBe(1);
    expect(await findGuildSummary(db(), guild, gone)).toBeUndefined();
    expect(await findGuildSummary(db(), guild, kept)).toBeDefined();
    const posts = await db().selectFrom('summary_posts').select('message_id').where('summary_id', '=', gone).execute();
    expect(posts).toEqual([]);
    expect(await forgetDeletedSummaries(db(), ['nope'])).toBe(0);
  });

  it('prunes summaries, their posts and chunks older than the retention, keeping newer ones', async () => {
    const guild = `g-${randomUUID()}`;
    const store = new KyselySummaryStore(db());
    const old = await store.saveSummary(summary(guild, 'open', new Date(NOW.getTime() - 91 * DAY)));
    const recent = await store.saveSummary(summary(guild, 'open', new Date(NOW.getTime() - 89 * DAY)));
    await recordSummaryPost(db(), { summaryId: old, guildId: guild, channelId: 'open', messageIds: [`o-${old}`] });
    const oldChunk = `c-old-${randomUUID()}`;
    const newChunk = `c-new-${randomUUID()}`;
    await db()
      .insertInto('summary_chunks')
      .values([
        { chunk_key: oldChunk, text: 't', provider: 'p', model: 'm', tokens: 1, created_at: new Date(NOW.getTime() - 100 * DAY) },
        { chunk_key: newChunk, text: 't', provider: 'p', model: 'm', tokens: 1, created_at: new Date(NOW.getTime() - DAY) },
      ])
      .execute();
    const pruned = await pruneSummaryHistory(db(), NOW, 90);
    expect(pruned.summaries).toBeGreaterThanOrEqual(1);
    expect(pruned.chunks).toBeGreaterThanOrEqual(1);
    expect(await findGuildSummary(db(), guild, old)).toBeUndefined();
    expect(await findGuildSummary(db(), guild, recent)).toBeDefined();
    const chunks = await db().selectFrom('summary_chunks').select('chunk_key').where('chunk_key', 'in', [oldChunk, newChunk]).execute();
    expect(chunks.map((c) => c.chunk_key)).toEqual([newChunk]);
    expect(await db().selectFrom('summary_posts').select('message_id').where('message_id', '=', `o-${old}`).execute()).toEqual([]);
    await expect(pruneSummaryHistory(db(), NOW, 0)).rejects.toThrow(/positive/);
  });

  it('runs as the recurring summaries.prune job on the job queue', { timeout: 60_000 }, async () => {
    const guild = `g-${randomUUID()}`;
    const old = await new KyselySummaryStore(db()).saveSummary(summary(guild, 'open', new Date(Date.now() - 10 * DAY)));
    const jobs = new DurableJobQueue({ db: db(), logger: silentLogger, pollMs: 50 });
    registerSummaryPrune(jobs, { db: db(), clock: systemClock, logger: silentLogger, retentionDays: 5 }, 60_000);
    jobs.start();
    try {
      // Generous: the machine is shared.
      const deadline = Date.now() + 30_000;
      while ((await findGuildSummary(db(), guild, old)) !== undefined) {
        if (Date.now() > deadline) {
          const seen = await db().selectFrom('jobs').select(['state', 'attempts', 'last_error']).where('kind', '=', PRUNE_JOB).execute();
          throw new Error(`the prune job never pruned; its jobs: ${JSON.stringify(seen)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const done = await db().selectFrom('jobs').select(['state', 'result']).where('kind', '=', PRUNE_JOB).where('state', '=', 'done').execute();
      expect(done.length).toBeGreaterThanOrEqual(1);
    } finally {
      await jobs.stop();
    }
  });
});


/**
 * `npm run bench -- web-api [--summaries 10000] [--requests 300]`: the time
 * `GET /api/v1/summaries/{id}` takes, measured by a client on the same
 * host, with the app in the web role over real HTTP: key check, rate
 * limit, the summary read from a table of 10,000, and the visibility check
 * (the key's admin and the guild's roles and channels fetched from Discord,
 * here the emulator, over REST, at every request).
 *
 *   api-summary-get-p95   ms, 95th percentile of sequential requests
 *
 * `apiSummaryGetP95()` is exported on its own so `bench/web.ts` can print
 * it beside the dashboard's figure.
 */
import { randomUUID } from 'node:crypto';
import { ApiKeyStore } from '../src/api/api-keys.ts';
import { startApiHarness } from '../tests/api/harness.ts';
import { openMemoryDatabase } from './_prompts-engine.ts';
import { quantile, report } from './_report.ts';

export async function apiSummaryGetP95(options: { summaries?: number; requests?: number } = {}): Promise<number> {
  const summaries = options.summaries ?? 10_000;
  const requests = options.requests ?? 300;
  const database = await openMemoryDatabase();
  // Each request is one of these keys' (a rate limit of a few hundred a minute must not be what is measured).
  // The deployment's default permission reuse (API_PERMISSION_CACHE_MS) is what is measured.
  const h = await startApiHarness(database, { API_RATE_PER_MINUTE: '100000', API_PERMISSION_CACHE_MS: '5000' });
  try {
    const { guild, general, admin } = h.world;
    const ids: string[] = [];
    for (let start = 0; start < summaries; start += 500) {
      const rows = Array.from({ length: Math.min(500, summaries - start) }, (_, i) => {
        const id = randomUUID();
        ids.push(id);
        return {
          id,
          guild_id: guild.id,
          channel_id: general.id,
          first_message_id: '1',
          last_message_id: '2',
          message_count: 40,
          options: JSON.stringify({ type: 'brief', perspective: 'general', category: null, locale: 'en-US' }),
          request_key: `bench-${start + i}`,
          prompt: JSON.stringify({ level: 'default', repo: 'bundled', ref: null, commit: null, path: 'summaries/default/brief.md', tried: [], reasons: [] }),
          provider: 'local',
          model: 'local-extractive',
          input_tokens: 1_000,
          output_tokens: 200,
          cost_usd: '0',
          text: `Summary ${start + i}: decisions, open questions and action items. `.repeat(20),
          citations: JSON.stringify([{ ref: 1, messageId: '1', jumpUrl: 'https://discord.com/channels/1/2/1' }]),
          chunks: 1,
          warnings: '[]',
          created_at: new Date(Date.now() - (start + i) * 60_000),
          created_by: admin.id,
        };
      });
      await database.db.insertInto('summaries').values(rows).execute();
    }
    const { key } = await new ApiKeyStore(database.db).create({ guildId: guild.id, name: 'bench', scopes: ['summaries:read'], createdBy: admin.id });
    const get = async (id: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(`${h.url}/api/v1/summaries/${id}`, { headers: { authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET summary answered ${res.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 20; i++) await get(ids[i]!);
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) samples.push(await get(ids[Math.floor(Math.random() * ids.length)]!));
    return quantile(samples, 0.95);
  } finally {
    await h.close();
    await database.close();
  }
}

/** Rows the dashboard shows, written as the summarizer and the usage writer write them (for tests and the web bench). */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';

const DAY_MS = 86_400_000;

export interface SeedSummary {
  guildId: string;
  channelId: string;
  text: string;
  createdAt: Date;
  citations?: Array<{ ref: number; messageId: string; jumpUrl?: string }>;
}

export async function seedSummaries(db: Kysely<Database>, summaries: readonly SeedSummary[]): Promise<string[]> {
  const rows = summaries.map((s) => ({
    id: randomUUID(),
    guild_id: s.guildId,
    channel_id: s.channelId,
    first_message_id: '1',
    last_message_id: '2',
    message_count: 42,
    options: JSON.stringify({ type: 'brief', perspective: 'general', category: null, locale: null }),
    request_key: randomUUID(),
    prompt: JSON.stringify({ level: 'custom', repo: 'acme/prompts', ref: 'main', commit: 'abc', path: 'prompts/discussion/default.md', tried: [], reasons: [] }),
    provider: 'anthropic',
    model: 'claude-test',
    input_tokens: 1000,
    output_tokens: 200,
    cost_usd: '0.004',
    text: s.text,
    citations: JSON.stringify(s.citations ?? []),
    chunks: 1,
    warnings: '[]',
    created_at: s.createdAt,
    created_by: null,
  }));
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('summaries').values(rows.slice(i, i + 500)).execute();
  return rows.map((r) => r.id);
}

/** `callsPerDay` calls a day for `days` days ending now, alternating providers, a few failed. */
export async function seedUsage(db: Kysely<Database>, guildId: string, now: number, days: number, callsPerDay: number): Promise<void> {
  const rows = [];
  for (let d = 0; d < days; d += 1) {
    for (let c = 0; c < callsPerDay; c += 1) {
      const provider = c % 3 === 0 ? 'local' : 'anthropic';
      const failed = c % 5 === 4;
      rows.push({
        guild_id: guildId,
        user_id: '1',
        task: 'summarize',
        provider,
        model: provider === 'local' ? 'local-extractive' : 'claude-test',
        input_tokens: 1000,
        output_tokens: 100,
        cost_usd: provider === 'local' || failed ? '0' : ((d % 5) * 0.001 + 0.0025).toFixed(6),
        latency_ms: 100,
        outcome: failed ? 'error:timeout' : 'ok',
        key_source: provider === 'local' ? 'none' : c % 2 === 0 ? 'operator' : 'guild',
        correlation_id: randomUUID(),
        // Spread over each day, never in the future.
        created_at: new Date(now - d * DAY_MS - (c + 1) * 60_000),
      });
    }
  }
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('llm_calls').values(rows.slice(i, i + 500)).execute();
}

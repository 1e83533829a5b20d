/** A stored summary as the API shows it (the `Summary` schema). */
import type { Selectable } from 'kysely';
import type { SummariesTable } from '../summaries/tables.ts';

export const SUMMARY_COLUMNS = ['id', 'guild_id', 'channel_id', 'created_at', 'options', 'message_count', 'text', 'citations', 'provider', 'model', 'prompt', 'warnings'] as const;
type Row = Pick<Selectable<SummariesTable>, (typeof SUMMARY_COLUMNS)[number]>;

export function summaryJson(row: Row): Record<string, unknown> {
  const options = row.options as { type?: string; perspective?: string; locale?: string | null };
  const prompt = row.prompt as { level?: string; repo?: string | null; commit?: string | null; path?: string | null };
  return {
    id: row.id,
    guildId: row.guild_id,
    channelId: row.channel_id,
    createdAt: new Date(row.created_at).toISOString(),
    type: options.type ?? 'brief',
    perspective: options.perspective ?? 'general',
    locale: options.locale ?? null,
    messageCount: row.message_count,
    text: row.text,
    citations: Array.isArray(row.citations) ? row.citations : [],
    provider: row.provider,
    model: row.model,
    prompt: { level: String(prompt.level ?? 'unknown'), repo: prompt.repo ?? null, commit: prompt.commit ?? null, path: prompt.path ?? null },
    warnings: Array.isArray(row.warnings) ? row.warnings.map(String) : [],
  };
}

/**
 * Persistence of the engine: finished summaries (for reuse), partial
 * summaries of map-reduce chunks (for retries), and chat memory. The
 * interfaces are what the summarizer and chat depend on; the Kysely classes
 * implement them over the tables of migration 0004.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ChatMemory, ChatTurn, CitationLink, PromptReport, SummaryRequestOptions, Usage } from './types.ts';

export interface StoredSummary {
  id: string;
  guildId: string | null;
  channelId: string;
  firstMessageId: string;
  lastMessageId: string;
  messageCount: number;
  options: SummaryRequestOptions;
  requestKey: string;
  prompt: PromptReport;
  provider: string;
  model: string;
  usage: Usage;
  costUsd: number;
  text: string;
  citations: CitationLink[];
  chunks: number;
  warnings: string[];
  createdAt: Date;
  createdBy: string | null;
}

export type NewSummary = Omit<StoredSummary, 'id'>;

/** A partial summary (map chunk or intermediate reduce) kept for reuse. */
export interface StoredChunk {
  text: string;
  provider: string;
  model: string;
  tokens: number;
}

export interface SummaryStore {
  findSummary(requestKey: string): Promise<StoredSummary | undefined>;
  /**
   * Returns the id the summary is stored under; when an identical request was
   * saved first, that row's id, unless `replace`: then this summary takes the
   * stored one's place (a preferred provider's answer over a fallback's).
   */
  saveSummary(summary: NewSummary, options?: { replace?: boolean }): Promise<string>;
  /** The stored partials among `keys`, in one round trip. */
  findChunks(keys: readonly string[]): Promise<Map<string, StoredChunk>>;
  /** The first stored partial stands, unless `replace` (one judged not reusable is being made again). */
  saveChunk(key: string, chunk: StoredChunk, options?: { replace?: boolean }): Promise<void>;
}

export interface ChatMemoryStore {
  load(guildId: string, channelId: string): Promise<ChatMemory | undefined>;
  save(guildId: string, channelId: string, memory: ChatMemory, at: Date): Promise<void>;
  /** True when there was memory to forget. */
  clear(guildId: string, channelId: string): Promise<boolean>;
}

export class KyselySummaryStore implements SummaryStore {
  constructor(private readonly db: Kysely<Database>) {}

  async findSummary(requestKey: string): Promise<StoredSummary | undefined> {
    const row = await this.db
      .selectFrom('summaries')
      .select([
        'id',
        'guild_id as guildId',
        'channel_id as channelId',
        'first_message_id as firstMessageId',
        'last_message_id as lastMessageId',
        'message_count as messageCount',
        'options',
        'request_key as requestKey',
        'prompt',
        'provider',
        'model',
        'input_tokens as inputTokens',
        'output_tokens as outputTokens',
        'cost_usd as costUsd',
        'text',
        'citations',
        'chunks',
        'warnings',
        'created_at as createdAt',
        'created_by as createdBy',
      ])
      .where('request_key', '=', requestKey)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const { options, prompt, inputTokens, outputTokens, costUsd, citations, warnings, createdAt, ...columns } = row;
    return {
      ...columns,
      options,
      prompt,
      usage: { inputTokens, outputTokens },
      costUsd: Number(costUsd),
      citations: Array.isArray(citations) ? citations : [],
      warnings: Array.isArray(warnings) ? warnings.map(String) : [],
      createdAt: new Date(createdAt),
    };
  }

  async saveSummary(s: NewSummary, options: { replace?: boolean } = {}): Promise<string> {
    const values = {
      guild_id: s.guildId,
      channel_id: s.channelId,
      first_message_id: s.firstMessageId,
      last_message_id: s.lastMessageId,
      message_count: s.messageCount,
      options: JSON.stringify(s.options),
      request_key: s.requestKey,
      prompt: JSON.stringify(s.prompt),
      provider: s.provider,
      model: s.model,
      input_tokens: s.usage.inputTokens,
      output_tokens: s.usage.outputTokens,
      cost_usd: s.costUsd.toFixed(6),
      text: s.text,
      citations: JSON.stringify(s.citations),
      chunks: s.chunks,
      warnings: JSON.stringify(s.warnings),
      created_at: s.createdAt,
      created_by: s.createdBy,
    };
    const inserted = await this.db
      .insertInto('summaries')
      .values({ id: randomUUID(), ...values })
      // Two identical requests racing: the first stored answer stands, unless this one replaces it.
      .onConflict((oc) => (options.replace === true ? oc.column('request_key').doUpdateSet(values) : oc.column('request_key').doNothing()))
      .returning('id')
      .executeTakeFirst();
    if (inserted !== undefined) return inserted.id;
    const existing = await this.db.selectFrom('summaries').select('id').where('request_key', '=', s.requestKey).executeTakeFirstOrThrow();
    return existing.id;
  }

  async findChunks(keys: readonly string[]): Promise<Map<string, StoredChunk>> {
    const found = new Map<string, StoredChunk>();
    // Bounded batches keep the parameter list well under Postgres's limit.
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      if (batch.length === 0) continue;
      const rows = await this.db.selectFrom('summary_chunks').selectAll().where('chunk_key', 'in', batch).execute();
      for (const row of rows) found.set(row.chunk_key, { text: row.text, provider: row.provider, model: row.model, tokens: row.tokens });
    }
    return found;
  }

  async saveChunk(key: string, chunk: StoredChunk, options: { replace?: boolean } = {}): Promise<void> {
    const values = { text: chunk.text, provider: chunk.provider, model: chunk.model, tokens: chunk.tokens };
    await this.db
      .insertInto('summary_chunks')
      .values({ chunk_key: key, ...values })
      .onConflict((oc) => (options.replace === true ? oc.column('chunk_key').doUpdateSet(values) : oc.column('chunk_key').doNothing()))
      .execute();
  }

  /** Partials are only worth keeping for retries; returns how many were dropped. */
  async pruneChunks(olderThan: Date): Promise<number> {
    const result = await this.db.deleteFrom('summary_chunks').where('created_at', '<', olderThan).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export class KyselyChatMemoryStore implements ChatMemoryStore {
  constructor(private readonly db: Kysely<Database>) {}

  async load(guildId: string, channelId: string): Promise<ChatMemory | undefined> {
    const row = await this.db
      .selectFrom('chat_memory')
      .select(['running_summary', 'turns', 'tokens'])
      .where('guild_id', '=', guildId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return { runningSummary: row.running_summary, turns: cleanTurns(row.turns), tokens: row.tokens };
  }

  async save(guildId: string, channelId: string, memory: ChatMemory, at: Date): Promise<void> {
    const values = {
      running_summary: memory.runningSummary,
      turns: JSON.stringify(memory.turns),
      tokens: memory.tokens,
      updated_at: at,
    };
    await this.db
      .insertInto('chat_memory')
      .values({ guild_id: guildId, channel_id: channelId, ...values })
      .onConflict((oc) => oc.columns(['guild_id', 'channel_id']).doUpdateSet(values))
      .execute();
  }

  async clear(guildId: string, channelId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('chat_memory')
      .where('guild_id', '=', guildId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

/** Stored turns are re-read defensively: a row edited by hand must not crash a chat. */
function cleanTurns(raw: unknown): ChatTurn[] {
  if (!Array.isArray(raw)) return [];
  const turns: ChatTurn[] = [];
  for (const t of raw as unknown[]) {
    if (t === null || typeof t !== 'object') continue;
    const { role, author, content, at } = t as Record<string, unknown>;
    if ((role !== 'user' && role !== 'assistant') || typeof content !== 'string') continue;
    turns.push({
      role,
      content,
      at: typeof at === 'number' && Number.isFinite(at) ? at : 0,
      ...(typeof author === 'string' ? { author } : {}),
    });
  }
  return turns;
}

import type { Json, Numeric, Timestamp } from '../db/column-types.ts';
import type { PromptReport, SummaryRequestOptions } from './types.ts';

/** Table types for summaries and chat memory (migration 0004_summaries_and_chat), part of `Database`. */

export interface SummariesTable {
  id: string;
  guild_id: string | null;
  channel_id: string;
  first_message_id: string;
  last_message_id: string;
  message_count: number;
  /** type, perspective, category, locale: what makes two requests the same. */
  options: Json<SummaryRequestOptions>;
  /** sha-256 of everything an identical request shares; see request-key.ts. */
  request_key: string;
  /** The prompt report: level, repo, ref, commit, path, tried, reasons. */
  prompt: Json<PromptReport>;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: Numeric<'no default'>;
  text: string;
  citations: Json<Array<{ ref: number; messageId: string; jumpUrl?: string }>>;
  /** Map chunks the summary was built from (1 when it was one call). */
  chunks: number;
  warnings: Json<string[]>;
  created_at: Timestamp;
  created_by: string | null;
}

export interface SummaryChunksTable {
  /** sha-256 of the chunk's content, the prompt commit and path, and the options. */
  chunk_key: string;
  text: string;
  provider: string;
  model: string;
  /** Output tokens of the partial summary. */
  tokens: number;
  created_at: Timestamp;
}

export interface ChatMemoryTable {
  guild_id: string;
  /** A channel or thread id. */
  channel_id: string;
  running_summary: string;
  turns: Json<Array<{ role: 'user' | 'assistant'; author?: string; content: string; at: number }>>;
  tokens: number;
  updated_at: Timestamp;
}

export interface EngineTables {
  summaries: SummariesTable;
  summary_chunks: SummaryChunksTable;
  chat_memory: ChatMemoryTable;
}

/** One public message a summary was posted as (migration 0016_history_and_notices). */
export interface SummaryPostsTable {
  message_id: string;
  summary_id: string;
  guild_id: string;
  /** Where it was posted. */
  channel_id: string;
  /** Its place among the summary's messages, from 0. */
  part: number;
  posted_at: Timestamp;
}

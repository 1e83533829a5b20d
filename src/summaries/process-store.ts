import { randomUUID } from 'node:crypto';
import type { NewSummary, StoredChunk, StoredSummary, SummaryStore } from './store.ts';

/**
 * Summaries and partials kept for the life of this process only: the store
 * of a run that has no database (the offline `recap summarize`). It answers
 * as a fresh database would, so the run behaves as one on an empty database.
 */
export class ProcessSummaryStore implements SummaryStore {
  private readonly summaries = new Map<string, StoredSummary>();
  private readonly chunks = new Map<string, StoredChunk>();

  async findSummary(requestKey: string): Promise<StoredSummary | undefined> {
    return this.summaries.get(requestKey);
  }

  async saveSummary(summary: NewSummary, options: { replace?: boolean } = {}): Promise<string> {
    const existing = this.summaries.get(summary.requestKey);
    if (existing !== undefined && options.replace !== true) return existing.id;
    const id = existing?.id ?? randomUUID();
    this.summaries.set(summary.requestKey, { id, ...summary });
    return id;
  }

  async findChunks(keys: readonly string[]): Promise<Map<string, StoredChunk>> {
    const found = new Map<string, StoredChunk>();
    for (const key of keys) {
      const chunk = this.chunks.get(key);
      if (chunk !== undefined) found.set(key, chunk);
    }
    return found;
  }

  async saveChunk(key: string, chunk: StoredChunk, options: { replace?: boolean } = {}): Promise<void> {
    if (options.replace === true || !this.chunks.has(key)) this.chunks.set(key, chunk);
  }
}

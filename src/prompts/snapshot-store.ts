import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { decodeSnapshotFiles, encodeSnapshotFiles } from './snapshot-codec.ts';
import type { RawSnapshot } from './types.ts';

export interface SnapshotIdentity {
  cacheKey: string;
  apiHost: string;
  owner: string;
  repo: string;
  ref: string;
  scope: string;
}

export interface StoredSnapshot {
  snapshot: RawSnapshot;
  etag: string | undefined;
  fetchedAt: number;
  checkedAt: number;
  lastError: string | undefined;
  goneSince: number | undefined;
}

export interface FetchLogEntry {
  cacheKey: string;
  outcome: 'fetched' | 'not-modified' | 'invalid' | 'error';
  commit?: string;
  error?: string;
  durationMs: number;
}

/** The persistence seam of the snapshot cache. */
export interface SnapshotStore {
  load(cacheKey: string): Promise<StoredSnapshot | undefined>;
  save(identity: SnapshotIdentity, snapshot: RawSnapshot, etag: string | undefined, at: number): Promise<void>;
  markChecked(cacheKey: string, etag: string | undefined, at: number): Promise<void>;
  markFailed(cacheKey: string, error: string, at: number, gone: boolean): Promise<void>;
  logFetch(entry: FetchLogEntry): Promise<void>;
}

export class KyselySnapshotStore implements SnapshotStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBytes: number,
  ) {}

  async load(cacheKey: string): Promise<StoredSnapshot | undefined> {
    const row = await this.db.selectFrom('prompt_snapshots').selectAll().where('cache_key', '=', cacheKey).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      snapshot: { commit: row.commit_sha, files: decodeSnapshotFiles(row.files, this.maxBytes), skipped: [] },
      etag: row.etag ?? undefined,
      fetchedAt: new Date(row.fetched_at).getTime(),
      checkedAt: new Date(row.checked_at).getTime(),
      lastError: row.last_error ?? undefined,
      goneSince: row.gone_since === null ? undefined : new Date(row.gone_since).getTime(),
    };
  }

  async save(identity: SnapshotIdentity, snapshot: RawSnapshot, etag: string | undefined, at: number): Promise<void> {
    const blob = encodeSnapshotFiles(snapshot.files);
    let bytes = 0;
    for (const b of snapshot.files.values()) bytes += b.byteLength;
    const when = new Date(at);
    const values = {
      cache_key: identity.cacheKey,
      api_host: identity.apiHost,
      owner: identity.owner,
      repo: identity.repo,
      ref: identity.ref,
      scope: identity.scope,
      commit_sha: snapshot.commit,
      etag: etag ?? null,
      files: blob,
      bytes,
      fetched_at: when,
      checked_at: when,
      last_error: null,
      last_error_at: null,
      gone_since: null,
    };
    await this.db
      .insertInto('prompt_snapshots')
      .values(values)
      .onConflict((oc) => oc.column('cache_key').doUpdateSet({ ...values, cache_key: undefined }))
      .execute();
  }

  async markChecked(cacheKey: string, etag: string | undefined, at: number): Promise<void> {
    await this.db
      .updateTable('prompt_snapshots')
      .set({ checked_at: new Date(at), etag: etag ?? null, last_error: null, last_error_at: null, gone_since: null })
      .where('cache_key', '=', cacheKey)
      .execute();
  }

  async markFailed(cacheKey: string, error: string, at: number, gone: boolean): Promise<void> {
    await this.db
      .updateTable('prompt_snapshots')
      .set((eb) => ({
        last_error: error,
        last_error_at: new Date(at),
        gone_since: gone ? eb.fn.coalesce('gone_since', eb.val(new Date(at))) : null,
      }))
      .where('cache_key', '=', cacheKey)
      .execute();
  }

  async logFetch(entry: FetchLogEntry): Promise<void> {
    await this.db
      .insertInto('prompt_fetch_log')
      .values({
        cache_key: entry.cacheKey,
        outcome: entry.outcome,
        commit_sha: entry.commit ?? null,
        error: entry.error ?? null,
        duration_ms: Math.round(entry.durationMs),
      })
      .execute();
  }
}

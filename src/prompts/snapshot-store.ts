import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { decodeSnapshotFiles, encodeSnapshotFiles } from './snapshot-codec.ts';
import type { DenialStatus } from './refresh-outcome.ts';
import type { Problem, RawSnapshot } from './types.ts';

export interface SnapshotIdentity {
  cacheKey: string;
  apiHost: string;
  owner: string;
  repo: string;
  ref: string;
  scope: string;
}

interface StoredSnapshot {
  snapshot: RawSnapshot;
  etag: string | undefined;
  fetchedAt: number;
  checkedAt: number;
  lastError: string | undefined;
  goneSince: number | undefined;
}

/** The newest commit when it failed validation, with its own ETag. */
export interface StoredInvalidHead {
  commit: string;
  etag: string | undefined;
  problems: Problem[];
  at: number;
}

/** GitHub's authoritative refusal (404, 401, 403) under one credential scope. */
export interface StoredDenial {
  status: DenialStatus;
  message: string;
  since: number;
}

/** Everything stored for one cache key; each part may be missing. */
export interface StoredState {
  snapshot: StoredSnapshot | undefined;
  invalidHead: StoredInvalidHead | undefined;
  denial: StoredDenial | undefined;
}

/** Problems kept with an invalid head: enough to act on, bounded per repository. */
const MAX_STORED_PROBLEMS = 50;

export interface FetchLogEntry {
  cacheKey: string;
  outcome: 'fetched' | 'not-modified' | 'invalid' | 'error';
  commit?: string | undefined;
  error?: string | undefined;
  durationMs: number;
}

/** The persistence seam of the snapshot cache. */
export interface SnapshotStore {
  load(cacheKey: string): Promise<StoredState>;
  /** A valid snapshot: replaces the row, and clears any invalid head and denial. */
  save(identity: SnapshotIdentity, snapshot: RawSnapshot, etag: string | undefined, at: number): Promise<void>;
  /** GitHub answered without a denial; `etag` (when given) is the served commit's own and replaces the stored one. */
  markChecked(cacheKey: string, etag: string | undefined, at: number): Promise<void>;
  markFailed(cacheKey: string, error: string, at: number, gone: boolean): Promise<void>;
  saveInvalidHead(cacheKey: string, head: StoredInvalidHead): Promise<void>;
  saveDenial(cacheKey: string, denial: StoredDenial, at: number): Promise<void>;
  /** Access works again (any answer but 404/401/403), or a valid commit arrived. */
  clearDenial(cacheKey: string): Promise<void>;
  clearInvalidHead(cacheKey: string): Promise<void>;
  logFetch(entry: FetchLogEntry): Promise<void>;
}

export class KyselySnapshotStore implements SnapshotStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBytes: number,
  ) {}

  async load(cacheKey: string): Promise<StoredState> {
    const [snapshot, invalid, denial] = await Promise.all([
      this.loadSnapshot(cacheKey),
      this.db.selectFrom('prompt_invalid_heads').selectAll().where('cache_key', '=', cacheKey).executeTakeFirst(),
      this.db.selectFrom('prompt_access_denials').selectAll().where('cache_key', '=', cacheKey).executeTakeFirst(),
    ]);
    return {
      snapshot,
      invalidHead:
        invalid === undefined
          ? undefined
          : {
              commit: invalid.commit_sha,
              etag: invalid.etag ?? undefined,
              problems: toProblems(invalid.problems),
              at: new Date(invalid.seen_at).getTime(),
            },
      denial:
        denial === undefined || !isDenialStatus(denial.status)
          ? undefined
          : { status: denial.status, message: denial.message, since: new Date(denial.since).getTime() },
    };
  }

  private async loadSnapshot(cacheKey: string): Promise<StoredSnapshot | undefined> {
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
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('prompt_snapshots')
        .values(values)
        .onConflict((oc) => oc.column('cache_key').doUpdateSet({ ...values, cache_key: undefined }))
        .execute();
      await trx.deleteFrom('prompt_invalid_heads').where('cache_key', '=', identity.cacheKey).execute();
      await trx.deleteFrom('prompt_access_denials').where('cache_key', '=', identity.cacheKey).execute();
    });
  }

  async saveInvalidHead(cacheKey: string, head: StoredInvalidHead): Promise<void> {
    const values = {
      cache_key: cacheKey,
      commit_sha: head.commit,
      etag: head.etag ?? null,
      problems: JSON.stringify(head.problems.slice(0, MAX_STORED_PROBLEMS)),
      seen_at: new Date(head.at),
    };
    await this.db
      .insertInto('prompt_invalid_heads')
      .values(values)
      .onConflict((oc) => oc.column('cache_key').doUpdateSet({ ...values, cache_key: undefined }))
      .execute();
  }

  async clearInvalidHead(cacheKey: string): Promise<void> {
    await this.db.deleteFrom('prompt_invalid_heads').where('cache_key', '=', cacheKey).execute();
  }

  async saveDenial(cacheKey: string, denial: StoredDenial, at: number): Promise<void> {
    await this.db
      .insertInto('prompt_access_denials')
      .values({ cache_key: cacheKey, status: denial.status, message: denial.message, since: new Date(denial.since), checked_at: new Date(at) })
      .onConflict((oc) =>
        // A change of status (404 → 401) is a new denial; the same one keeps its start.
        oc.column('cache_key').doUpdateSet((eb) => ({
          status: denial.status,
          message: denial.message,
          checked_at: new Date(at),
          since: eb
            .case()
            .when('prompt_access_denials.status', '=', denial.status)
            .then(eb.ref('prompt_access_denials.since'))
            .else(new Date(denial.since))
            .end(),
        })),
      )
      .execute();
  }

  async clearDenial(cacheKey: string): Promise<void> {
    await this.db.deleteFrom('prompt_access_denials').where('cache_key', '=', cacheKey).execute();
  }

  async markChecked(cacheKey: string, etag: string | undefined, at: number): Promise<void> {
    await this.db
      .updateTable('prompt_snapshots')
      .set({ checked_at: new Date(at), ...(etag === undefined ? {} : { etag }), last_error: null, last_error_at: null, gone_since: null })
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

function isDenialStatus(status: number): status is DenialStatus {
  return status === 404 || status === 401 || status === 403;
}

/** Problems as stored by this module; anything else in the column is dropped. */
function toProblems(value: unknown): Problem[] {
  if (!Array.isArray(value)) return [];
  const out: Problem[] = [];
  for (const item of value.slice(0, MAX_STORED_PROBLEMS)) {
    if (typeof item !== 'object' || item === null) continue;
    const p = item as Record<string, unknown>;
    if (typeof p['file'] !== 'string' || typeof p['message'] !== 'string') continue;
    const problem: Problem = {
      severity: p['severity'] === 'warning' ? 'warning' : 'error',
      code: typeof p['code'] === 'string' ? p['code'] : 'invalid',
      file: p['file'],
      message: p['message'],
    };
    if (typeof p['line'] === 'number') problem.line = p['line'];
    if (typeof p['column'] === 'number') problem.column = p['column'];
    out.push(problem);
  }
  return out;
}

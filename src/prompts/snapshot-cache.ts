import { LRUCache } from 'lru-cache';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { PromptLimits } from './limits.ts';
import type { ParsedRepo } from './parsed.ts';
import { formatProblem } from './problems.ts';
import { parseSnapshot } from './snapshot.ts';
import { snapshotBytes } from './snapshot-codec.ts';
import type { SnapshotIdentity, SnapshotStore } from './snapshot-store.ts';
import { isSourceError, type PromptSource } from './sources/source.ts';
import type { Problem, RawSnapshot } from './types.ts';

/** A repository as the cache sees it: who it is, and how to reach it when a refresh is due. */
export interface CacheTarget extends SnapshotIdentity {
  /** `owner/repo@ref`, for messages. */
  label: string;
  /** Built only when a refresh runs (it may read a token from the vault). */
  createSource(): Promise<PromptSource>;
}

export interface CacheEntry {
  readonly identity: SnapshotIdentity;
  /** The last snapshot that passed validation; null when none ever did. */
  parsed: ParsedRepo | null;
  problems: Problem[];
  commit: string | null;
  etag: string | undefined;
  /** When the snapshot's content was downloaded. */
  fetchedAt: number;
  /** When GitHub last confirmed the newest commit (200 or 304). */
  checkedAt: number;
  /** A push or an admin ended freshness at this time. */
  expiredAt: number | undefined;
  /** The newest commit failed validation; `parsed` still holds the last good one. */
  invalidHead: { commit: string; problems: Problem[]; at: number } | undefined;
  lastError: { message: string; kind: string; at: number } | undefined;
  /** The repository or branch answered 404 since this time. */
  goneSince: number | undefined;
  bytes: number;
}

export type Freshness = 'fresh' | 'stale' | 'expired';

export interface Lookup {
  entry: CacheEntry | undefined;
  freshness: Freshness | 'none';
  /** Why no usable snapshot came back, for the resolution report. */
  error?: string;
}

export interface RefreshResult {
  ok: boolean;
  changed: boolean;
  entry: CacheEntry | undefined;
  error?: string;
}

export interface SnapshotCacheOptions {
  store: SnapshotStore;
  clock: Clock;
  logger: Logger;
  limits: Partial<PromptLimits>;
  /** A snapshot younger than this is served without asking GitHub. */
  ttlMs: number;
  /**
   * A different TTL for some repositories (those whose pushes arrive as
   * signed webhooks: for them the TTL is only a backstop).
   */
  ttlFor?: (identity: SnapshotIdentity) => number | undefined;
  /** An older snapshot is served (while refreshing) up to this age; past it, never. */
  maxStaleMs: number;
  /** In-memory bound, by snapshot bytes. */
  maxBytes: number;
  /** After a failed refresh, do not try the same repository again for this long. */
  failureBackoffMs: number;
  /**
   * A whole refresh (stored-copy look-up, credentials, GitHub) ends by then:
   * a member waiting on a cold resolution waits at most this long.
   */
  refreshBudgetMs?: number;
  onRefresh?: (outcome: 'fetched' | 'not-modified' | 'invalid' | 'error', durationMs: number) => void;
}

/**
 * Snapshots of prompt repositories: in memory (LRU by bytes), persisted in
 * the database, refreshed with conditional requests. Concurrent refreshes of
 * one repository share a single flight; a stale snapshot is served at once
 * while it refreshes in the background.
 */
export class SnapshotCache {
  private readonly memory: LRUCache<string, CacheEntry>;
  private readonly inflight = new Map<string, Promise<RefreshResult>>();
  private readonly loading = new Map<string, Promise<CacheEntry | undefined>>();
  /** Keys whose stored snapshot was looked for and not found, so the database is asked once. */
  private readonly notStored = new Set<string>();
  private readonly backoffUntil = new Map<string, { until: number; error: string }>();
  /** Writes not awaited by the request that caused them; shutdown waits for them. */
  private readonly pendingWrites = new Set<Promise<void>>();

  constructor(private readonly options: SnapshotCacheOptions) {
    this.memory = new LRUCache<string, CacheEntry>({
      maxSize: options.maxBytes,
      // Parsed text costs about its byte size; the constant covers the maps around it.
      sizeCalculation: (entry) => Math.max(1, entry.bytes + 2048),
    });
  }

  /** Bytes of snapshots held in memory. */
  get heldBytes(): number {
    return this.memory.calculatedSize;
  }

  get size(): number {
    return this.memory.size;
  }

  /** Memory only, no I/O: the warm path. */
  peek(key: string): CacheEntry | undefined {
    return this.memory.get(key);
  }

  freshness(entry: CacheEntry, now = this.options.clock.now()): Freshness {
    const ttl = this.options.ttlFor?.(entry.identity) ?? this.options.ttlMs;
    if (entry.expiredAt === undefined && now - entry.checkedAt < ttl) return 'fresh';
    return now - entry.checkedAt <= this.options.maxStaleMs ? 'stale' : 'expired';
  }

  /**
   * The snapshot to serve for a target. Fresh: as is. Stale: as is, with a
   * background refresh. Missing or past max-stale: waits for a refresh (or
   * the stored copy) and reports why nothing could be had.
   */
  async lookup(target: CacheTarget): Promise<Lookup> {
    let entry = this.memory.get(target.cacheKey) ?? (await this.loadStored(target));
    if (entry !== undefined) {
      const freshness = this.freshness(entry);
      if (freshness === 'fresh') return { entry, freshness };
      if (freshness === 'stale') {
        this.refreshInBackground(target);
        return { entry, freshness };
      }
    }
    const result = await this.refresh(target);
    entry = result.entry ?? entry;
    if (entry !== undefined && this.freshness(entry) !== 'expired') return { entry, freshness: this.freshness(entry), error: result.error };
    return { entry: undefined, freshness: 'none', error: result.error ?? 'no snapshot could be fetched' };
  }

  /** Fetches now unless a refresh is already running (then shares it) or the repo is backing off. */
  refresh(target: CacheTarget, options: { force?: boolean } = {}): Promise<RefreshResult> {
    const running = this.inflight.get(target.cacheKey);
    if (running !== undefined) return running;
    const backoff = this.backoffUntil.get(target.cacheKey);
    if (options.force !== true && backoff !== undefined && backoff.until > this.options.clock.now()) {
      return Promise.resolve({ ok: false, changed: false, entry: this.memory.get(target.cacheKey), error: backoff.error });
    }
    const flight = this.runRefresh(target).finally(() => this.inflight.delete(target.cacheKey));
    this.inflight.set(target.cacheKey, flight);
    return flight;
  }

  /** Ends freshness (a push, an admin's refresh): the next lookup revalidates. */
  expire(predicate: (identity: SnapshotIdentity) => boolean): number {
    const now = this.options.clock.now();
    let count = 0;
    for (const entry of this.memory.values()) {
      if (predicate(entry.identity)) {
        entry.expiredAt = now;
        count += 1;
      }
    }
    for (const key of this.backoffUntil.keys()) {
      const entry = this.memory.get(key);
      if (entry === undefined || predicate(entry.identity)) this.backoffUntil.delete(key);
    }
    return count;
  }

  /** Forgets a snapshot in memory (the stored copy stays for other processes and restarts). */
  forget(key: string): void {
    this.memory.delete(key);
    this.notStored.delete(key);
    this.backoffUntil.delete(key);
  }

  /** Waits for background refreshes (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.inflight.size > 0 || this.pendingWrites.size > 0) {
      await Promise.allSettled([...this.inflight.values(), ...this.pendingWrites]);
    }
  }

  private refreshInBackground(target: CacheTarget): void {
    if (this.inflight.has(target.cacheKey)) return;
    this.refresh(target).catch((error: unknown) => {
      this.options.logger.warn({ err: error, repo: target.label }, 'background prompt refresh failed');
    });
  }

  private async loadStored(target: CacheTarget): Promise<CacheEntry | undefined> {
    if (this.notStored.has(target.cacheKey)) return undefined;
    let pending = this.loading.get(target.cacheKey);
    if (pending === undefined) {
      pending = this.readStore(target).finally(() => this.loading.delete(target.cacheKey));
      this.loading.set(target.cacheKey, pending);
    }
    return pending;
  }

  private async readStore(target: CacheTarget): Promise<CacheEntry | undefined> {
    try {
      const stored = await this.options.store.load(target.cacheKey);
      if (stored === undefined) {
        this.notStored.add(target.cacheKey);
        return undefined;
      }
      const parsed = parseSnapshot(stored.snapshot, this.options.limits);
      if (parsed.repo === null) return undefined;
      const entry = newEntry(target, {
        parsed: parsed.repo,
        problems: parsed.problems,
        commit: stored.snapshot.commit,
        etag: stored.etag,
        fetchedAt: stored.fetchedAt,
        checkedAt: stored.checkedAt,
        lastError: stored.lastError === undefined ? undefined : { message: stored.lastError, kind: 'stored', at: stored.checkedAt },
        goneSince: stored.goneSince,
        bytes: snapshotBytes(stored.snapshot),
      });
      // Another flight may have fetched meanwhile; the newer one wins.
      const current = this.memory.get(target.cacheKey);
      if (current !== undefined && current.checkedAt >= entry.checkedAt) return current;
      this.memory.set(target.cacheKey, entry);
      return entry;
    } catch (error) {
      this.options.logger.warn({ err: error, repo: target.label }, 'could not read the stored prompt snapshot');
      return undefined;
    }
  }

  private async runRefresh(target: CacheTarget): Promise<RefreshResult> {
    const { clock, store, logger } = this.options;
    const started = clock.now();
    const startedPerf = performance.now();
    const signal = this.options.refreshBudgetMs === undefined ? undefined : AbortSignal.timeout(this.options.refreshBudgetMs);
    const previous = this.memory.get(target.cacheKey) ?? (await this.loadStored(target));
    const known = previous?.commit !== null && previous?.commit !== undefined ? { commit: previous.commit, etag: previous.etag } : undefined;
    const finish = (outcome: 'fetched' | 'not-modified' | 'invalid' | 'error', commit?: string, error?: string): void => {
      const durationMs = performance.now() - startedPerf;
      this.options.onRefresh?.(outcome, durationMs);
      const write = store.logFetch({ cacheKey: target.cacheKey, outcome, commit, error, durationMs }).catch((e: unknown) => {
        logger.warn({ err: e }, 'could not write the prompt fetch log');
      });
      this.pendingWrites.add(write);
      void write.finally(() => this.pendingWrites.delete(write));
    };
    try {
      const source = await target.createSource();
      const outcome = await source.fetch({ known, ...(signal === undefined ? {} : { signal }) });
      const now = clock.now();
      this.backoffUntil.delete(target.cacheKey);
      if (outcome.kind === 'not-modified') {
        if (previous === undefined) throw new Error('the source said not-modified without a known snapshot');
        previous.checkedAt = now;
        previous.expiredAt = undefined;
        previous.etag = outcome.etag ?? previous.etag;
        previous.lastError = undefined;
        previous.goneSince = undefined;
        this.memory.set(target.cacheKey, previous);
        await this.persist(() => store.markChecked(target.cacheKey, previous.etag, now));
        finish('not-modified', outcome.commit);
        return { ok: previous.invalidHead === undefined, changed: false, entry: previous };
      }
      return await this.accept(target, outcome.snapshot, outcome.etag, previous, now, finish);
    } catch (error) {
      const now = clock.now();
      const message = isSourceError(error) ? error.message : `unexpected error: ${(error as Error).message ?? String(error)}`;
      const kind = isSourceError(error) ? error.kind : 'internal';
      const gone = isSourceError(error) && error.kind === 'not-found';
      const retryAt = isSourceError(error) ? error.retryAt : undefined;
      this.backoffUntil.set(target.cacheKey, { until: Math.max(now + this.options.failureBackoffMs, retryAt ?? 0), error: message });
      if (previous !== undefined) {
        previous.lastError = { message, kind, at: now };
        if (gone) previous.goneSince ??= now;
        else previous.goneSince = undefined;
        await this.persist(() => store.markFailed(target.cacheKey, message, now, gone));
      }
      if (!isSourceError(error)) logger.error({ err: error, repo: target.label }, 'prompt refresh failed unexpectedly');
      finish('error', undefined, message);
      return { ok: false, changed: false, entry: previous, error: message };
    }
  }

  private async accept(
    target: CacheTarget,
    snapshot: RawSnapshot,
    etag: string | undefined,
    previous: CacheEntry | undefined,
    now: number,
    finish: (outcome: 'fetched' | 'invalid', commit?: string, error?: string) => void,
  ): Promise<RefreshResult> {
    const parsed = parseSnapshot(snapshot, this.options.limits);
    if (parsed.repo === null) {
      const summary = describeProblems(parsed.problems);
      const entry = previous ?? newEntry(target, { fetchedAt: now, checkedAt: now });
      // Keep the last good snapshot; remember the broken head (and its ETag,
      // so re-checking it costs a 304) until a new commit replaces it.
      entry.invalidHead = { commit: snapshot.commit, problems: parsed.problems, at: now };
      entry.checkedAt = now;
      entry.expiredAt = undefined;
      entry.etag = etag;
      entry.commit = entry.commit ?? snapshot.commit;
      entry.lastError = { message: `commit ${snapshot.commit.slice(0, 7)} is invalid: ${summary}`, kind: 'invalid', at: now };
      this.memory.set(target.cacheKey, entry);
      finish('invalid', snapshot.commit, summary);
      return { ok: false, changed: false, entry, error: entry.lastError.message };
    }
    const entry = newEntry(target, {
      parsed: parsed.repo,
      problems: parsed.problems,
      commit: snapshot.commit,
      etag,
      fetchedAt: now,
      checkedAt: now,
      bytes: snapshotBytes(snapshot),
    });
    this.memory.set(target.cacheKey, entry);
    this.notStored.delete(target.cacheKey);
    await this.persist(() => this.options.store.save(pickIdentity(target), snapshot, etag, now));
    finish('fetched', snapshot.commit);
    return { ok: true, changed: previous?.commit !== snapshot.commit, entry };
  }

  /** Persistence failures must not fail a resolution: the snapshot is still good in memory. */
  private async persist(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not persist the prompt snapshot');
    }
  }
}

/** An entry with nothing known but what is given. */
function newEntry(
  target: SnapshotIdentity,
  fields: Partial<Omit<CacheEntry, 'identity'>> & Pick<CacheEntry, 'fetchedAt' | 'checkedAt'>,
): CacheEntry {
  return {
    identity: pickIdentity(target),
    parsed: null,
    problems: [],
    commit: null,
    etag: undefined,
    expiredAt: undefined,
    invalidHead: undefined,
    lastError: undefined,
    goneSince: undefined,
    bytes: 0,
    ...fields,
  };
}

function pickIdentity(target: SnapshotIdentity): SnapshotIdentity {
  return {
    cacheKey: target.cacheKey,
    apiHost: target.apiHost,
    owner: target.owner,
    repo: target.repo,
    ref: target.ref,
    scope: target.scope,
  };
}

/** The first few errors as `file:line:col: message`. */
export function describeProblems(problems: readonly Problem[], max = 3): string {
  const errors = problems.filter((p) => p.severity === 'error');
  const shown = errors.slice(0, max).map(formatProblem).join('; ');
  return errors.length > max ? `${shown}; and ${errors.length - max} more` : shown;
}

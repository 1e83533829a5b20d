import { LRUCache } from 'lru-cache';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import type { PromptLimits } from './limits.ts';
import type { ParsedRepo } from './parsed.ts';
import { formatProblem } from './problems.ts';
import { parseSnapshot } from './snapshot.ts';
import { denialStatusOf, type DenialStatus, type RefreshOutcome, type ServedCopy } from './refresh-outcome.ts';
import { snapshotBytes } from './snapshot-codec.ts';
import type { SnapshotIdentity, SnapshotStore } from './snapshot-store.ts';
import { isSourceError, type PromptSource } from './sources/source.ts';
import type { Problem, RawSnapshot } from './types.ts';
import { messageOf } from '../log/error-message.ts';

/** A repository as the cache sees it: who it is, and how to reach it when a refresh is due. */
export interface CacheTarget extends SnapshotIdentity {
  /** `owner/repo@ref`, for messages. */
  label: string;
  /**
   * Built only when a refresh runs (it may read a token from the vault).
   * `budgetMs` bounds GitHub's whole part of the refresh.
   */
  createSource(options?: { budgetMs?: number }): Promise<PromptSource>;
}

export interface CacheEntry {
  readonly identity: SnapshotIdentity;
  /** The last snapshot that passed validation; null when none ever did. */
  parsed: ParsedRepo | null;
  problems: Problem[];
  commit: string | null;
  /** The ETag of `commit`'s answer (never another commit's). */
  etag: string | undefined;
  /** When the snapshot's content was downloaded. */
  fetchedAt: number;
  /** When GitHub last confirmed the newest commit (200 or 304). */
  checkedAt: number;
  /** A push or an admin ended freshness at this time. */
  expiredAt: number | undefined;
  /** The newest commit failed validation (with its own ETag); `parsed` still holds the last good one. */
  invalidHead: { commit: string; problems: Problem[]; at: number; etag: string | undefined } | undefined;
  lastError: { message: string; kind: string; at: number } | undefined;
  /** GitHub answered 404, 401 or 403 under this credential scope: the snapshot is kept but not served. */
  denied: { status: DenialStatus; message: string; since: number } | undefined;
  bytes: number;
}

type Freshness = 'fresh' | 'stale' | 'expired';

interface Lookup {
  entry: CacheEntry | undefined;
  freshness: Freshness | 'none';
  /** Why no usable snapshot came back, for the resolution report. */
  error?: string | undefined;
}

export interface RefreshResult {
  /** The refresh succeeded: the newest commit is valid and served. */
  ok: boolean;
  changed: boolean;
  entry: CacheEntry | undefined;
  error?: string;
  /** What happened, for every reporter. */
  outcome: RefreshOutcome;
  /** Settles once `onOutcome` has recorded the outcome; rejects when that failed (explicit actions await it before answering). */
  recorded: Promise<void>;
}

/** GitHub's share of a refresh ends this much before the cache's hard stop. */
const SOURCE_MARGIN_MS = 150;

interface SnapshotCacheOptions {
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
   * A whole refresh (stored-copy look-up, credentials, GitHub) ends by then,
   * however it started: long enough for a large or slow repository to load.
   */
  refreshBudgetMs?: number;
  /**
   * A member's resolution waits at most this long for a cold refresh; the
   * refresh itself goes on (within `refreshBudgetMs`) and serves the next one.
   */
  resolveWaitMs?: number;
  onRefresh?: (outcome: 'fetched' | 'not-modified' | 'invalid' | 'error', durationMs: number) => void;
  /** Every refresh's outcome, whatever started it (sync records; status reads them). */
  onOutcome?: (target: CacheTarget, outcome: RefreshOutcome) => Promise<void>;
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
  private readonly backoffUntil = new Map<string, { until: number; error: string; outcome?: RefreshOutcome }>();
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
    const started = performance.now();
    let entry = this.memory.get(target.cacheKey) ?? (await this.loadStored(target));
    if (entry !== undefined) {
      const freshness = this.freshness(entry);
      // A denied snapshot is not served; ask again (at most once per back-off) so access coming back is noticed.
      if (entry.denied !== undefined && freshness !== 'expired') this.refreshInBackground(target);
      if (freshness === 'fresh') return { entry, freshness };
      if (freshness === 'stale') {
        this.refreshInBackground(target);
        return { entry, freshness };
      }
    }
    // The stored-copy look-up counts against the member's wait too.
    const waitMs = this.options.resolveWaitMs === undefined ? undefined : Math.max(0, this.options.resolveWaitMs - (performance.now() - started));
    const result = await this.waitAtMost(this.refresh(target), waitMs);
    if (result === undefined) {
      const error = `GitHub did not answer within ${this.options.resolveWaitMs} ms; ${target.label} keeps loading in the background`;
      if (entry !== undefined && entry.parsed !== null && this.freshness(entry) !== 'expired') return { entry, freshness: this.freshness(entry), error };
      return { entry: undefined, freshness: 'none', error };
    }
    entry = result.entry ?? entry;
    if (entry !== undefined && this.freshness(entry) !== 'expired') return { entry, freshness: this.freshness(entry), error: result.error };
    return { entry: undefined, freshness: 'none', error: result.error ?? 'no snapshot could be fetched' };
  }

  /** The flight's result, or undefined when it takes longer than `ms` (the flight goes on). */
  private async waitAtMost<T>(flight: Promise<T>, ms: number | undefined): Promise<T | undefined> {
    if (ms === undefined) return flight;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([flight, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fetches now unless a refresh is already running (then shares it) or the repo is backing off. */
  refresh(target: CacheTarget, options: { force?: boolean } = {}): Promise<RefreshResult> {
    const running = this.inflight.get(target.cacheKey);
    if (running !== undefined) return running;
    const backoff = this.backoffUntil.get(target.cacheKey);
    if (options.force !== true && backoff !== undefined && backoff.until > this.options.clock.now()) {
      const entry = this.memory.get(target.cacheKey);
      const outcome: RefreshOutcome = backoff.outcome ?? {
        kind: 'failed',
        reason: 'internal',
        status: null,
        message: backoff.error,
        serving: null,
        expired: null,
      };
      return Promise.resolve({ ok: false, changed: false, entry, error: backoff.error, outcome, recorded: Promise.resolve() });
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
      const state = await this.options.store.load(target.cacheKey);
      const stored = state.snapshot;
      const parsed = stored === undefined ? undefined : parseSnapshot(stored.snapshot, this.options.limits);
      const good = stored !== undefined && parsed?.repo != null ? { stored, repo: parsed.repo, problems: parsed.problems } : undefined;
      if (good === undefined && state.invalidHead === undefined) {
        this.notStored.add(target.cacheKey);
        return undefined;
      }
      const invalidAt = state.invalidHead?.at ?? 0;
      const entry = newEntry(target, {
        parsed: good?.repo ?? null,
        problems: good?.problems ?? [],
        commit: good?.stored.snapshot.commit ?? null,
        etag: good?.stored.etag,
        fetchedAt: good?.stored.fetchedAt ?? invalidAt,
        checkedAt: Math.max(good?.stored.checkedAt ?? 0, invalidAt),
        lastError: good?.stored.lastError === undefined ? undefined : { message: good.stored.lastError, kind: 'stored', at: good.stored.checkedAt },
        invalidHead: state.invalidHead,
        denied: state.denial,
        bytes: good === undefined ? 0 : snapshotBytes(good.stored.snapshot),
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
    const { clock, store } = this.options;
    const startedPerf = performance.now();
    const budgetMs = this.options.refreshBudgetMs;
    const signal = budgetMs === undefined ? undefined : AbortSignal.timeout(budgetMs);
    const previous = this.memory.get(target.cacheKey) ?? (await this.loadStored(target));
    // Ask about the newest commit we know of: the invalid head when there is
    // one (with its own ETag), else the commit being served.
    const head = previous?.invalidHead ?? (previous?.commit !== null && previous?.commit !== undefined ? { commit: previous.commit, etag: previous.etag } : undefined);
    const known = head === undefined ? undefined : { commit: head.commit, ...(head.etag === undefined ? {} : { etag: head.etag }) };
    const finish = (outcome: 'fetched' | 'not-modified' | 'invalid' | 'error', commit?: string, error?: string): void => {
      const durationMs = performance.now() - startedPerf;
      this.options.onRefresh?.(outcome, durationMs);
      this.track(store.logFetch({ cacheKey: target.cacheKey, outcome, commit, error, durationMs }), 'could not write the prompt fetch log');
    };
    let result: Omit<RefreshResult, 'recorded'>;
    try {
      // GitHub's own budget ends a little before the cache's hard stop, so an
      // outage is reported (and counted by the breaker) as GitHub's timeout.
      const source = await target.createSource(budgetMs === undefined ? {} : { budgetMs: Math.max(100, budgetMs - SOURCE_MARGIN_MS) });
      const fetched = await source.fetch({ known, ...(signal === undefined ? {} : { signal }) });
      const now = clock.now();
      this.backoffUntil.delete(target.cacheKey);
      if (previous?.denied !== undefined) {
        previous.denied = undefined;
        await this.persist(() => store.clearDenial(target.cacheKey));
      }
      if (fetched.kind === 'not-modified') {
        if (previous === undefined) throw new Error('the source said not-modified without a known snapshot');
        result = await this.confirm(target, previous, fetched.etag, now);
        finish('not-modified', fetched.commit);
      } else {
        result = await this.accept(target, fetched.snapshot, fetched.etag, previous, now, finish);
      }
    } catch (error) {
      result = await this.fail(target, previous, error);
      finish('error', undefined, result.error);
    }
    const recorded = this.options.onOutcome === undefined ? Promise.resolve() : this.track(this.options.onOutcome(target, result.outcome), 'could not record the prompt refresh outcome');
    if (!result.ok) {
      const backoff = this.backoffUntil.get(target.cacheKey);
      if (backoff !== undefined) backoff.outcome = result.outcome;
    }
    return { ...result, recorded };
  }

  /** GitHub says the newest commit is the one we asked about (304, or the same SHA). */
  private async confirm(target: CacheTarget, entry: CacheEntry, etag: string | undefined, now: number): Promise<Omit<RefreshResult, 'recorded'>> {
    const { store } = this.options;
    entry.checkedAt = now;
    entry.expiredAt = undefined;
    entry.lastError = undefined;
    this.memory.set(target.cacheKey, entry);
    const invalid = entry.invalidHead;
    if (invalid !== undefined) {
      // Still the broken commit: its ETag stays with it, the good row only learns when it was last confirmed.
      invalid.etag = etag ?? invalid.etag;
      await this.persist(() => store.markChecked(target.cacheKey, undefined, now));
      const outcome: RefreshOutcome = { kind: 'invalid', commit: invalid.commit, problems: invalid.problems, serving: this.servedCopy(entry, now) };
      return { ok: false, changed: false, entry, outcome, error: `commit ${invalid.commit.slice(0, 7)} is invalid: ${describeProblems(invalid.problems)}` };
    }
    entry.etag = etag ?? entry.etag;
    await this.persist(() => store.markChecked(target.cacheKey, entry.etag, now));
    return { ok: true, changed: false, entry, outcome: { kind: 'unchanged', commit: entry.commit ?? '' } };
  }

  private async fail(target: CacheTarget, previous: CacheEntry | undefined, error: unknown): Promise<Omit<RefreshResult, 'recorded'>> {
    const { clock, store, logger } = this.options;
    const now = clock.now();
    const sourceError = isSourceError(error) ? error : undefined;
    const message = sourceError?.message ?? `unexpected error: ${messageOf(error)}`;
    const kind = sourceError?.kind ?? 'internal';
    const retryAt = sourceError?.retryAt;
    const denial = sourceError === undefined ? undefined : denialStatusOf(sourceError.kind);
    this.backoffUntil.set(target.cacheKey, { until: Math.max(now + this.options.failureBackoffMs, retryAt ?? 0), error: message });
    if (sourceError === undefined) logger.error({ err: error, repo: target.label }, 'prompt refresh failed unexpectedly');
    if (previous !== undefined) {
      previous.lastError = { message, kind, at: now };
      await this.persist(() => store.markFailed(target.cacheKey, message, now, denial === 404));
    }
    if (denial !== undefined) {
      const since = previous?.denied?.status === denial ? previous.denied.since : now;
      if (previous !== undefined) {
        previous.denied = { status: denial, message, since };
        await this.persist(() => store.saveDenial(target.cacheKey, { status: denial, message, since }, now));
      }
      const kept = previous?.parsed != null && previous.commit !== null ? { commit: previous.commit, ageMs: now - previous.checkedAt } : null;
      return { ok: false, changed: false, entry: previous, error: message, outcome: { kind: 'denied', status: denial, message, since, kept, ...(sourceError?.advice === undefined ? {} : { advice: sourceError.advice }) } };
    }
    const serving = previous === undefined ? null : this.servedCopy(previous, now);
    const held = previous?.parsed != null && previous.commit !== null ? { commit: previous.commit, ageMs: now - previous.checkedAt } : null;
    const outcome: RefreshOutcome = {
      kind: 'failed',
      reason: sourceError === undefined ? 'internal' : (sourceError.kind as Extract<RefreshOutcome, { kind: 'failed' }>['reason']),
      status: sourceError?.status ?? null,
      message,
      serving,
      expired: serving === null && previous?.denied === undefined && held !== null && this.freshness(previous!, now) === 'expired' ? held : null,
    };
    return { ok: false, changed: false, entry: previous, error: message, outcome };
  }

  /** The last valid snapshot when it may still be served (held, not denied, within max-stale). */
  private servedCopy(entry: CacheEntry, now: number): ServedCopy | null {
    if (entry.parsed === null || entry.commit === null || entry.denied !== undefined) return null;
    if (now - entry.checkedAt > this.options.maxStaleMs && entry.invalidHead === undefined) return null;
    return { commit: entry.commit, ageMs: now - entry.checkedAt };
  }

  private async accept(
    target: CacheTarget,
    snapshot: RawSnapshot,
    etag: string | undefined,
    previous: CacheEntry | undefined,
    now: number,
    finish: (outcome: 'fetched' | 'invalid', commit?: string, error?: string) => void,
  ): Promise<Omit<RefreshResult, 'recorded'>> {
    const parsed = parseSnapshot(snapshot, this.options.limits);
    if (parsed.repo === null) {
      const summary = describeProblems(parsed.problems);
      const entry = previous ?? newEntry(target, { fetchedAt: now, checkedAt: now });
      // Keep the last good snapshot (and its ETag); remember the broken head
      // with its own ETag, so re-checking it costs a 304, until any new commit replaces it.
      const problems = [...parsed.problems.filter((p) => p.severity === 'error'), ...parsed.problems.filter((p) => p.severity !== 'error')];
      entry.invalidHead = { commit: snapshot.commit, problems, at: now, etag };
      entry.checkedAt = now;
      entry.expiredAt = undefined;
      entry.lastError = { message: `commit ${snapshot.commit.slice(0, 7)} is invalid: ${summary}`, kind: 'invalid', at: now };
      this.memory.set(target.cacheKey, entry);
      this.notStored.delete(target.cacheKey);
      await this.persist(() => this.options.store.saveInvalidHead(target.cacheKey, { commit: snapshot.commit, etag, problems, at: now }));
      if (previous !== undefined) await this.persist(() => this.options.store.markChecked(target.cacheKey, undefined, now));
      finish('invalid', snapshot.commit, summary);
      const outcome: RefreshOutcome = { kind: 'invalid', commit: snapshot.commit, problems, serving: this.servedCopy(entry, now) };
      return { ok: false, changed: false, entry, error: entry.lastError.message, outcome };
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
    // Saving a valid commit also forgets an invalid head and a denial: a valid commit clears them by any path.
    await this.persist(() => this.options.store.save(pickIdentity(target), snapshot, etag, now));
    finish('fetched', snapshot.commit);
    const before = previous?.invalidHead?.commit ?? previous?.commit ?? null;
    const outcome: RefreshOutcome = before === snapshot.commit ? { kind: 'unchanged', commit: snapshot.commit } : { kind: 'changed', commit: snapshot.commit, previous: before };
    return { ok: true, changed: previous?.commit !== snapshot.commit, entry, outcome };
  }

  /**
   * Writes not awaited by the request that caused them: failures are logged
   * and shutdown waits for them. Returns the write itself, so a caller that
   * does await it (an explicit action) still sees its failure.
   */
  private track(write: Promise<void>, failure: string): Promise<void> {
    const tracked = write.catch((error: unknown) => {
      this.options.logger.warn({ err: error }, failure);
    });
    this.pendingWrites.add(tracked);
    void tracked.finally(() => this.pendingWrites.delete(tracked));
    return write;
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
    denied: undefined,
    bytes: 0,
    ...fields,
  };
}

function pickIdentity({ cacheKey, apiHost, owner, repo, ref, scope }: SnapshotIdentity): SnapshotIdentity {
  return { cacheKey, apiHost, owner, repo, ref, scope };
}

/** The first few errors as `file:line:col: message`. */
export function describeProblems(problems: readonly Problem[], max = 3): string {
  const errors = problems.filter((p) => p.severity === 'error');
  const shown = errors.slice(0, max).map(formatProblem).join('; ');
  return errors.length > max ? `${shown}; and ${errors.length - max} more` : shown;
}

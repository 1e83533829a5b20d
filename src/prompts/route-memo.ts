/**
 * A size-bounded map for per-snapshot memoization. Oldest-inserted entries go
 * first: hostile request contexts can churn it but never grow it.
 */
export class BoundedMemo<V> {
  readonly #entries = new Map<string, V>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = Math.max(0, Math.floor(maxEntries));
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.#max === 0) return;
    if (!this.#entries.has(key) && this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** What routing remembers about one request context. */
export interface RouteMemoEntry {
  readonly candidates: readonly string[];
  pick?: PickResult;
}

export interface PickResult {
  /** The first candidate that is a usable prompt, or null. */
  readonly path: string | null;
  /** Candidates looked at, in order, up to and including the one taken. */
  readonly tried: readonly string[];
  /** Candidates that exist but were skipped at parse time, with the reason. */
  readonly passedOver: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

export type RouteMemo = BoundedMemo<RouteMemoEntry>;

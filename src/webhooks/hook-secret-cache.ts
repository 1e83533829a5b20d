import { LRUCache } from 'lru-cache';

export interface HookSecretCacheOptions {
  /** Ids remembered (known and unknown together). */
  max: number;
  /** How long a known id's secret is reused without the database. */
  ttlMs: number;
  /** How long an unknown id is answered 401 without the database. */
  negativeTtlMs: number;
  /** Look-ups of ids not in the cache running at once; past it, strangers are told to slow down. */
  maxConcurrentMisses: number;
}

export const defaultHookSecretCacheOptions: HookSecretCacheOptions = {
  max: 10_000,
  ttlMs: 5 * 60_000,
  negativeTtlMs: 60_000,
  maxConcurrentMisses: 8,
};

/** Too many look-ups of unknown ids at once: the request is refused before touching the database. */
export class HookLookupBusyError extends Error {
  override readonly name = 'HookLookupBusyError';
}


/**
 * hook id → what verifies its deliveries, in front of the database and the vault. The per-config
 * route is reachable by anyone, so the work an unauthenticated request can
 * cause is bounded: unknown ids are remembered too (negative entries), one
 * look-up per id runs at a time, and only a few look-ups of uncached ids run
 * at once.
 */
export class HookSecretCache<V extends { guildId: string }> {
  private readonly entries: LRUCache<string, { value: V | null }>;
  private readonly loading = new Map<string, Promise<V | undefined>>();

  constructor(
    private readonly load: (hookId: string) => Promise<V | undefined>,
    private readonly options: HookSecretCacheOptions = defaultHookSecretCacheOptions,
  ) {
    this.entries = new LRUCache({ max: options.max, ttl: options.ttlMs, ttlAutopurge: false });
  }

  /** Undefined: no such hook. Throws HookLookupBusyError when too many uncached ids are being looked up. */
  async get(hookId: string): Promise<V | undefined> {
    const hit = this.entries.get(hookId);
    if (hit !== undefined) return hit.value ?? undefined;
    const running = this.loading.get(hookId);
    if (running !== undefined) return running;
    if (this.loading.size >= this.options.maxConcurrentMisses) throw new HookLookupBusyError('too many webhook id look-ups at once');
    const pending = this.load(hookId)
      .then((value) => {
        this.entries.set(hookId, { value: value ?? null }, value === undefined ? { ttl: this.options.negativeTtlMs } : {});
        return value;
      })
      .finally(() => this.loading.delete(hookId));
    this.loading.set(hookId, pending);
    return pending;
  }

  /** Forgets one id (its secret was rotated or removed). */
  forget(hookId: string): void {
    this.entries.delete(hookId);
  }

  /** Forgets the ids of one guild (another process rotated or removed its hook). */
  forgetGuild(guildId: string): void {
    for (const [id, entry] of this.entries.entries()) {
      if (entry.value?.guildId === guildId) this.entries.delete(id);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

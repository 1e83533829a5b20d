export interface BucketSettings {
  /** Burst size: requests allowed at once from a full bucket. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

type TakeResult = { ok: true } | { ok: false; availableAt: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets by key, in memory. A bucket that has refilled to capacity is
 * indistinguishable from a new one, so such buckets are dropped when the map
 * grows: memory follows active keys, not every key ever seen.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sweepAt: number;

  constructor(
    private readonly settings: BucketSettings,
    private readonly sweepThreshold = 10_000,
  ) {
    if (!(settings.capacity >= 1) || !(settings.refillPerSecond > 0)) {
      throw new RangeError(
        `rate limit needs capacity >= 1 and refillPerSecond > 0 (got ${settings.capacity}, ${settings.refillPerSecond})`,
      );
    }
    this.sweepAt = sweepThreshold;
  }

  take(key: string, now: number): TakeResult {
    const { capacity, refillPerSecond } = this.settings;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      bucket = { tokens: capacity, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.tokens = Math.min(capacity, bucket.tokens + (elapsed * refillPerSecond) / 1000);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, availableAt: now + Math.ceil(((1 - bucket.tokens) * 1000) / refillPerSecond) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const { capacity, refillPerSecond } = this.settings;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) * refillPerSecond) / 1000 >= capacity) this.buckets.delete(key);
    }
    // If everything is busy, wait for twice as many keys before sweeping again, so sweeps stay amortised.
    this.sweepAt = Math.max(this.sweepThreshold, this.buckets.size * 2);
  }
}

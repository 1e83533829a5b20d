/** Discord snowflakes: ms since the Discord epoch in the top 42 bits, so ids sort by creation time. */
export const DISCORD_EPOCH = 1_420_070_400_000;

export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH;
}

/** The shard that receives a guild's events, by Discord's rule `(guild_id >> 22) % shard_count`. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Issues unique snowflakes; one per emulator so parallel emulators never share counters. */
export class SnowflakeFactory {
  readonly #issued = new Set<string>();
  #increment = 0;

  /** A fresh id for an entity created at `atMs` (defaults to the given clock reading). */
  next(atMs: number): string {
    const ms = BigInt(Math.max(0, Math.floor(atMs) - DISCORD_EPOCH));
    // Worker/process bits stay 0; the 12-bit increment separates ids made in the same ms.
    for (let attempt = 0; attempt < 4096; attempt++) {
      const id = ((ms << 22n) | BigInt(this.#increment)).toString();
      this.#increment = (this.#increment + 1) % 4096;
      if (!this.#issued.has(id)) {
        this.#issued.add(id);
        return id;
      }
    }
    // 4,096 ids in one millisecond: borrow the next millisecond rather than collide.
    return this.next(atMs + 1);
  }

  /** A fresh id whose guild events land on `shardId` of `shardCount`; ids stay near `atMs`. */
  nextForShard(atMs: number, shardId: number, shardCount: number): string {
    for (let offset = 0; ; offset++) {
      const id = this.next(atMs + offset);
      if (shardOfGuild(id, shardCount) === shardId) return id;
      this.#issued.delete(id);
    }
  }

  /**
   * Records an id chosen by the caller so generated ids never collide with it. Reusing an id is
   * legitimate (a thread takes its starter message's id), so duplicates are the caller's to check.
   */
  reserve(id: string): void {
    if (!/^\d{1,20}$/.test(id)) throw new Error(`Not a snowflake: ${JSON.stringify(id)}`);
    this.#issued.add(id);
  }
}

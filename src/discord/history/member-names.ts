/**
 * Guild nicknames for message authors. Fetched history carries users, not
 * members, and without the privileged Guild Members intent the client knows
 * only the members it happened to meet; the rest are asked for in batches of
 * 100 over the gateway, with a short time limit (names are a nicety; a slow
 * answer must not hold up a summary). Concurrent requests for the same
 * people share one lookup.
 */
import type { Guild } from 'discord.js';

const BATCH = 100;

export interface MemberNamesOptions {
  /** Longest wait for one batch (default 3 s). */
  timeoutMs?: number;
  /** Most authors looked up for one request (default 1,000). */
  maxLookups?: number;
}

export interface MemberNames {
  /** Makes sure the guild's members among `userIds` are in its cache, as far as can be done in time. */
  load(guild: Guild, userIds: Iterable<string>): Promise<void>;
  /** Nickname, else global name, else username, for a cached member. */
  nameOf(guild: Guild | null, userId: string): string | undefined;
}

export function createMemberNames(options: MemberNamesOptions = {}): MemberNames {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const maxLookups = options.maxLookups ?? 1_000;
  // guild id + user id → the lookup in progress; dropped when it settles.
  const pending = new Map<string, Promise<void>>();

  return {
    async load(guild, userIds) {
      const waits = new Set<Promise<void>>();
      const wanted: string[] = [];
      for (const id of new Set(userIds)) {
        if (guild.members.cache.has(id)) continue;
        const running = pending.get(`${guild.id}:${id}`);
        if (running !== undefined) waits.add(running);
        else if (wanted.length < maxLookups) wanted.push(id);
      }
      for (let i = 0; i < wanted.length; i += BATCH) {
        const batch = wanted.slice(i, i + BATCH);
        const lookup = guild.members
          .fetch({ user: batch, time: timeoutMs })
          .then(
            () => undefined,
            // Departed members, a slow gateway: the global names will do.
            () => undefined,
          )
          .finally(() => {
            for (const id of batch) pending.delete(`${guild.id}:${id}`);
          });
        for (const id of batch) pending.set(`${guild.id}:${id}`, lookup);
        waits.add(lookup);
      }
      await Promise.all(waits);
    },
    nameOf(guild, userId) {
      return guild?.members.cache.get(userId)?.displayName;
    },
  };
}

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { RouterRefusal } from '../../src/llm/router/errors.ts';
import type { SharedLimits } from '../../src/llm/router/types.ts';
import { createMemoryLimits, createPostgresLimits, type LimitSettings } from '../../src/llm/shared-state/shared-limits.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { MemoryLogger } from './support.ts';

const call = (userId: string, guildId: string) => ({ task: 'summarize' as const, userId, guildId, correlationId: randomUUID() });

async function outcome(limits: SharedLimits, userId: string, guildId: string): Promise<string> {
  try {
    await limits.admit(call(userId, guildId));
    return 'ok';
  } catch (err) {
    if (err instanceof RouterRefusal) return `${err.kind}:${err.scope}`;
    throw err;
  }
}

describeEachDatabase('shared rate limits', (database) => {
  // The service uses the memory store on PGlite (one process owns it); the Postgres store is checked on both here.
  const stores: Array<[string, (s: LimitSettings) => SharedLimits]> = [
    ['postgres store', (s) => createPostgresLimits(database().handle.db, s, systemClock, new MemoryLogger())],
    ['memory store', (s) => createMemoryLimits(s, systemClock, new MemoryLogger())],
  ];
  for (const [name, make] of stores) {
    it(`${name}: refuses a member over the limit, with when it lifts, and leaves others alone`, async () => {
      const limits = make({ userPerMin: 2, guildPerMin: 100 });
      const guild = randomUUID();
      const member = randomUUID();
      expect([await outcome(limits, member, guild), await outcome(limits, member, guild)]).toEqual(['ok', 'ok']);
      const before = Date.now();
      const err = await limits.admit(call(member, guild)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RouterRefusal);
      const refusal = err as RouterRefusal;
      expect(refusal.scope).toBe('user');
      expect(refusal.message).toMatch(/^Too many requests from you; try again at \S+Z \(in (59|60) s\)\.$/);
      expect((refusal.resetAt ?? 0) - before).toBeGreaterThan(55_000);
      expect(await outcome(limits, randomUUID(), guild)).toBe('ok');
    });

    it(`${name}: a member's refused calls do not use up the server's allowance`, async () => {
      const limits = make({ userPerMin: 1, guildPerMin: 3 });
      const guild = randomUUID();
      const chatty = randomUUID();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await outcome(limits, chatty, guild));
      expect(results).toEqual(['ok', 'rate:user', 'rate:user', 'rate:user', 'rate:user']);
      expect([await outcome(limits, randomUUID(), guild), await outcome(limits, randomUUID(), guild)]).toEqual(['ok', 'ok']);
      expect(await outcome(limits, randomUUID(), guild)).toBe('rate:guild');
    });

    it(`${name}: no limit when both are 0`, async () => {
      const limits = make({ userPerMin: 0, guildPerMin: 0 });
      for (let i = 0; i < 20; i++) expect(await outcome(limits, 'same', 'same')).toBe('ok');
    });
  }
});

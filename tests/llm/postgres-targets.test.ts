/**
 * The shared target view on the database, two instances standing for two
 * processes (on PGlite they share the one handle, on Postgres each has its
 * own pool): what one writes the other reads after a refresh, exactly one
 * claims the half-open probe, and a refresh never undoes a newer local write.
 */
import { expect, it } from 'vitest';
import { PostgresTargets } from '../../src/llm/shared-state/postgres-targets.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { MemoryLogger } from './support.ts';

const T = 'anthropic/claude-sonnet-4-6';

describeEachDatabase('shared target view', (database) => {
  let n = 0;
  async function pair(): Promise<{ a: PostgresTargets; b: PostgresTargets; clock: ManualClock; target: string; close(): Promise<void> }> {
    const clock = new ManualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
    const { url, handle } = database();
    // A second connection pool on real Postgres, as a second process would have.
    const other: DatabaseHandle | undefined = url !== undefined ? await openDatabase({ url, dataDir: '', poolMax: 2, logger: silentLogger }) : undefined;
    const a = new PostgresTargets({ db: handle.db, clock, logger: new MemoryLogger(), ttlMs: 60_000 });
    const b = new PostgresTargets({ db: (other ?? handle).db, clock, logger: new MemoryLogger(), ttlMs: 60_000 });
    return { a, b, clock, target: `${T}-${++n}`, close: async () => void (await other?.close()) };
  }

  it('shares a cooldown, keeping the later of two', async () => {
    const { a, b, clock, target, close } = await pair();
    a.noteCooldown(target, undefined, clock.now() + 30_000);
    b.noteCooldown(target, undefined, clock.now() + 10_000);
    await Promise.all([a.flush(), b.flush()]);
    await b.refresh();
    expect(b.cooldownUntil(target, undefined)).toBe(clock.now() + 30_000);
    // Scoped to the credential: a guild's own key has its own.
    expect(b.cooldownUntil(target, '123456789012345678')).toBeUndefined();
    clock.advance(30_000);
    expect(b.cooldownUntil(target, undefined)).toBeUndefined();
    await close();
  });

  it('shares an open circuit, lets exactly one claim the probe, and shares the close', async () => {
    const { a, b, clock, target, close } = await pair();
    a.noteOpened(target, undefined, clock.now() + 5_000);
    await a.flush();
    await b.refresh();
    expect(b.openUntil(target, undefined)).toBe(clock.now() + 5_000);
    expect(await b.claimProbe(target, undefined, 60_000)).toBe(false); // still open

    clock.advance(5_000);
    const claims = await Promise.all([a.claimProbe(target, undefined, 60_000), b.claimProbe(target, undefined, 60_000), b.claimProbe(target, undefined, 60_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);

    // The holder's lease runs out (it died): another may probe.
    clock.advance(60_000);
    expect(await b.claimProbe(target, undefined, 60_000)).toBe(true);
    b.noteClosed(target, undefined);
    await b.flush();
    await a.refresh();
    expect(a.openUntil(target, undefined)).toBeUndefined();
    expect(a.rows().some((r) => r.target === target)).toBe(false);
    await close();
  });

  it('does not let a refresh that started earlier undo a newer local write', async () => {
    const { a, clock, target, close } = await pair();
    const refreshing = a.refresh();
    a.noteOpened(target, undefined, clock.now() + 5_000);
    await refreshing;
    expect(a.openUntil(target, undefined)).toBe(clock.now() + 5_000);
    await a.flush();
    await a.refresh();
    expect(a.openUntil(target, undefined)).toBe(clock.now() + 5_000);
    await close();
  });
});

import { describe, expect, it } from 'vitest';
import { findPostgresBinaries } from '../helpers/private-postgres.ts';
import { runDbKillScenario } from './db-kill-scenario.ts';

/**
 * Losing the database, on a private Postgres cluster (never the shared server): a
 * webhook flood and concurrent /summarize requests while every backend of
 * the bot's database is terminated twice, then the server is restarted.
 * The process lives through all of it, /readyz recovers within 10 s, every
 * delivery answered 2xx ends `done`, and every /summarize gets a summary or
 * a clear "try again".
 */
const binaries = findPostgresBinaries();
if (binaries === undefined) process.stderr.write('\n*** database fault drill SKIPPED: no Postgres binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin\n\n');

describe.skipIf(binaries === undefined)('database outage drill [private postgres]', () => {
  it('survives two rounds of pg_terminate_backend and a pg_ctl restart under load', async () => {
    const result = await runDbKillScenario({ faults: ['terminate-backends', 'terminate-backends', 'restart-server'], log: (line) => process.stderr.write(`[db-kill] ${line}\n`) });
    if ('skip' in result) throw new Error(result.skip);
    expect(result.processErrors).toEqual([]);
    expect(result.processAliveAtEnd).toBe(true);
    expect(result.rounds.map((r) => r.processAlive)).toEqual([true, true, true]);
    // The app's pool and its LISTEN connection were there to be killed.
    expect(result.rounds[0]!.terminated).toBeGreaterThan(0);
    for (const round of result.rounds) {
      expect(round.readyzRecoveryMs).toBeDefined();
      expect(round.readyzRecoveryMs!).toBeLessThan(10_000);
    }
    expect(result.survived).toBe(3);
    expect(result.deliveries.answered2xx).toBeGreaterThan(0);
    expect(result.deliveries.lost).toEqual([]);
    expect(result.summarize.sent).toBeGreaterThan(0);
    expect(result.summarize.unanswered).toBe(0);
    expect(result.summarize.other).toEqual([]);
    expect(result.summarize.summaries).toBeGreaterThan(0);
  }, 400_000);
});

/**
 * The budget figures of `npm run bench -- router`: 20 concurrent calls for
 * one guild from 2 child processes (10 each) on a $1 daily budget, through
 * the real router and the database budget ledger on a throwaway database of
 * a real Postgres (`TEST_DATABASE_URL`, default 127.0.0.1:5432), around an
 * in-process provider that reports known usage (tests/helpers/budget-race.ts).
 *
 *   budget-overspend-max   max(0, spent - budget) over the rounds, USD
 *   budget-call-max        the most one of those calls can cost (its reservation), USD
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger } from '../src/log/logger.ts';
import { raceCallMax, raceInChild, spentToday } from '../tests/helpers/budget-race.ts';
import { report } from './_report.ts';

const POSTGRES_SERVER = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const BUDGET_USD = 1;
const ROUNDS = 3;

export async function budgetFigures(): Promise<void> {
  const name = `recap_bench_budget_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch (err) {
    process.stderr.write(`budget-overspend-max skipped: no Postgres at ${new URL(POSTGRES_SERVER).host} (${(err as Error).message}); set TEST_DATABASE_URL\n`);
    return;
  }
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(POSTGRES_SERVER);
    url.pathname = `/${name}`;
    const handle = await openDatabase({ url: url.toString(), dataDir: '', poolMax: 2, logger: createLogger({ level: 'silent', format: 'json' }) });
    try {
      await migrateToLatest(handle.db);
      let overspend = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const guildId = `bench-budget-${round}`;
        const results = await Promise.all([0, 1].map(() => raceInChild(url.toString(), guildId, 10, BUDGET_USD)));
        const failed = results.flatMap((r) => r.failed);
        if (failed.length > 0) throw new Error(`budget race calls failed: ${failed.slice(0, 3).join('; ')}`);
        overspend = Math.max(overspend, (await spentToday(handle.db, guildId)) - BUDGET_USD);
      }
      report('budget-overspend-max', Math.max(0, overspend), 'USD');
      report('budget-call-max', raceCallMax(), 'USD');
    } finally {
      await handle.close();
    }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

/**
 * The store `recap summarize` starts on. An export's summary runs on an
 * in-memory PGlite (so it never contends with `npm start` for DATA_DIR);
 * this compares its start, fresh (initdb + every migration) and from the
 * cached migrated template, with what the command used before: reopening
 * the migrated directory under DATA_DIR, and creating it on first use. Also
 * the whole quick-start command, wall clock.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { openMemoryDatabase } from '../src/cli/memory-database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger } from '../src/log/logger.ts';
import { report } from './_report.ts';

async function timed(open: () => Promise<PGlite>): Promise<number> {
  const started = performance.now();
  const pglite = await open();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  await migrateToLatest(db as never);
  const ms = performance.now() - started;
  await db.destroy();
  if (!pglite.closed) await pglite.close();
  return ms;
}

export async function run(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'recap-bench-quickstart-'));
  try {
    const memory: number[] = [];
    const cached: number[] = [];
    const reopen: number[] = [];
    const logger = createLogger({ level: 'silent', format: 'json' });
    const cachedOpen = async (): Promise<number> => {
      const started = performance.now();
      const handle = await openMemoryDatabase({ dataDir: dir, logger });
      const ms = performance.now() - started;
      await handle.close();
      return ms;
    };
    report('store-memory-template-first', Math.round(await cachedOpen()), 'ms');
    report('store-pglite-dir-fresh', Math.round(await timed(() => PGlite.create(join(dir, 'pglite')))), 'ms');
    // Interleaved, so a busy machine slows both alike.
    for (let i = 0; i < rounds; i++) {
      memory.push(await timed(() => PGlite.create()));
      cached.push(await cachedOpen());
      reopen.push(await timed(() => PGlite.create(join(dir, 'pglite'))));
    }
    report('store-pglite-memory-migrated', Math.round(Math.min(...memory)), 'ms');
    report('store-memory-template-cached', Math.round(Math.min(...cached)), 'ms');
    report('store-pglite-dir-reopen', Math.round(Math.min(...reopen)), 'ms');

    const walls: number[] = [];
    for (let i = 0; i < Math.min(rounds, 3); i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'summarize', 'examples/sample-export.json'], {
        env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (result.status !== 0) throw new Error(`recap summarize exited with ${result.status}: ${String(result.stderr).slice(0, 500)}`);
      walls.push(performance.now() - started);
    }
    report('quickstart-summarize-wall', Math.round(Math.min(...walls)), 'ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

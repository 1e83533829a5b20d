/**
 * The router figures that need a real Postgres server (BENCH_POSTGRES_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres; a throwaway database
 * is created and dropped):
 *
 *   rate-limit-excess   two worker processes (each a full language-model
 *                        service, tests/llm/shared-state-worker.ts) fire
 *                        `calls` requests each at once for one member whose
 *                        limit is `limit` per minute; requests admitted over
 *                        the limit, across both (target 0)
 *   shared-check-p99     what the shared checks add to one call: the member
 *                        and guild rate counters (one round trip, both at
 *                        once) plus the shared cooldown and circuit reads,
 *                        timed around exactly that work, p99 over `checks`
 *                        calls, ms (target <= 2)
 *
 * Without a reachable server both figures are skipped with the reason on stderr.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLogger } from '../src/log/logger.ts';
import type { PluginLogger } from '../src/llm/plugin-host/types.ts';
import { createPostgresLimits } from '../src/llm/shared-state/shared-limits.ts';
import { PostgresTargets } from '../src/llm/shared-state/postgres-targets.ts';
import { systemClock } from '../src/resilience/clock.ts';
import { startWorker } from '../tests/llm/shared-state-workers.ts';
import { quantile, report } from './_report.ts';

const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function withDatabase(use: (url: string) => Promise<void>): Promise<void> {
  const server = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `h15_shared_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch (error) {
    process.stderr.write(`rate-limit-excess and shared-check-p99 skipped: no Postgres at ${new URL(server).host} (${(error as Error).message})\n`);
    return;
  }
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    await use(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

async function rateLimitExcess(url: string, openaiUrl: string, calls: number, limit: number): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-shared-'));
  const configPath = path.join(dir, 'plugins.yaml');
  await writeFile(
    configPath,
    `
router:
  tasks:
    summarize: [openai-compatible/gpt-4o-mini]
plugins:
  local: { enabled: false }
  anthropic: { enabled: false }
  pii-redactor: { enabled: false }
  openai-compatible: { enabled: true, config: { base_url: "${openaiUrl}" } }
`,
  );
  const env = { DATABASE_URL: url, PLUGINS_CONFIG: configPath, LLM_USER_RATE_PER_MIN: String(limit), LLM_GUILD_RATE_PER_MIN: '0' };
  const workers = await Promise.all([startWorker(env), startWorker(env)]);
  try {
    const startAt = Date.now() + 500;
    const command = { op: 'hammer', calls, userId: `bench-member-${randomUUID()}`, guildId: 'bench-guild', startAt };
    const answers = await Promise.all(workers.map((w) => w.send(command)));
    const admitted = answers.reduce((sum, a) => sum + Number(a.admitted ?? 0), 0);
    report('rate-limit-excess', Math.max(0, admitted - limit), 'requests');
    if (admitted < limit) process.stderr.write(`rate-limit-excess: only ${admitted} of the ${limit} allowed were admitted\n`);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function sharedCheck(url: string, checks: number): Promise<void> {
  const database = await openDatabase({ url, dataDir: '', poolMax: 5, logger: createLogger({ level: 'silent', format: 'json' }) });
  try {
    await migrateToLatest(database.db);
    const limits = createPostgresLimits(database.db, { userPerMin: 1_000_000, guildPerMin: 1_000_000 }, systemClock, quiet);
    const targets = new PostgresTargets({ db: database.db, clock: systemClock, logger: quiet });
    targets.start();
    // A deployment's worth of shared state to read through: a cooldown and an open circuit elsewhere.
    targets.noteCooldown('anthropic/claude-sonnet-4-6', undefined, Date.now() + 600_000);
    targets.noteOpened('openai-compatible/gpt-4o', undefined, Date.now() + 600_000);
    await targets.flush();
    await targets.refresh();
    const one = async (i: number): Promise<number> => {
      const started = performance.now();
      await limits.admit({ task: 'summarize', userId: `member-${i % 500}`, guildId: `guild-${i % 50}`, correlationId: 'bench' });
      for (const t of ['anthropic/claude-sonnet-4-6', 'openai-compatible/gpt-4o-mini']) {
        targets.cooldownUntil(t, undefined);
        targets.openUntil(t, undefined);
      }
      return performance.now() - started;
    };
    for (let i = 0; i < 500; i++) await one(i);
    const times: number[] = [];
    for (let i = 0; i < checks; i++) times.push(await one(i));
    report('shared-check-p99', quantile(times, 0.99), 'ms');
    // Context for the figure on a busy machine: the same pool's bare round trip, timed the same way.
    const bare: number[] = [];
    for (let i = 0; i < checks; i++) {
      const started = performance.now();
      await sql`select 1`.execute(database.db);
      bare.push(performance.now() - started);
    }
    process.stderr.write(
      `shared-check-p99: for comparison, a bare "select 1" on the same pool: p50 ${quantile(bare, 0.5).toFixed(3)} ms, p99 ${quantile(bare, 0.99).toFixed(3)} ms; ` +
        `shared checks p50 ${quantile(times, 0.5).toFixed(3)} ms\n`,
    );
    await targets.close();
  } finally {
    await database.close();
  }
}

export async function runSharedFigures(openaiUrl: string, options: { calls?: number; limit?: number; checks?: number } = {}): Promise<void> {
  await withDatabase(async (url) => {
    const setup = await openDatabase({ url, dataDir: '', poolMax: 1, logger: createLogger({ level: 'silent', format: 'json' }) });
    await migrateToLatest(setup.db);
    await setup.close();
    await rateLimitExcess(url, openaiUrl, options.calls ?? 100, options.limit ?? 30);
    await sharedCheck(url, options.checks ?? 5_000);
  });
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { isConnectionLost } from '../../src/db/connection-errors.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { SlashCommand } from '../../src/discord/command.ts';
import { createPostgresListener } from '../../src/invalidation/postgres-listener.ts';
import { capturingLogger } from '../webhooks/helpers.ts';
import { findPostgresBinaries, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { startInProcessBot, TranscribingProvider, type InProcessBot } from '../discord/support.ts';

const DATABASE = 'recap_connection_loss';
const binaries = findPostgresBinaries();
if (binaries === undefined) process.stderr.write('\n*** connection-loss tests SKIPPED: no Postgres binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin\n\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a query of this database is running (so a termination hits it mid-flight). */
async function untilRunning(server: PrivatePostgres, fragment: string): Promise<void> {
  const probe = await openDatabase({ url: server.url(DATABASE), dataDir: '', poolMax: 1, logger: capturingLogger().logger });
  try {
    for (let i = 0; i < 200; i += 1) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = ${DATABASE} and query like ${`%${fragment}%`} and state = 'active' and pid <> pg_backend_pid()`.execute(probe.db);
      if ((rows[0]?.n ?? 0) > 0) return;
      await sleep(25);
    }
    throw new Error(`no running query like ${fragment}`);
  } finally {
    await probe.close();
  }
}

/**
 * Connection loss, on a private Postgres cluster (terminating backends of the
 * shared server would hit other suites): a backend terminated mid-query
 * fails only that query; reads are repeated on a fresh connection, writes
 * fail with a clear "try again" for the member, and nothing reaches the
 * process as an unhandled 'error' event (which would kill this worker).
 */
describe.skipIf(binaries === undefined)('a lost database connection [private postgres]', () => {
  let server: PrivatePostgres;
  let handle: DatabaseHandle;
  const log = capturingLogger('warn');

  beforeAll(async () => {
    const started = await startPrivatePostgres();
    if ('skip' in started) throw new Error(started.skip);
    server = started;
    await server.createDatabase(DATABASE);
    handle = await openDatabase({ url: server.url(DATABASE), dataDir: '', poolMax: 4, logger: log.logger });
    await migrateToLatest(handle.db);
  }, 120_000);
  afterAll(async () => {
    await handle?.close().catch(() => undefined);
    await server?.remove();
  });

  it('a read whose backend is terminated mid-query is read again on a fresh connection', async () => {
    const read = sql<{ answer: number }>`select 42 as answer, pg_sleep(1.5) as marker_read_retry`.execute(handle.db);
    await untilRunning(server, 'marker_read_retry');
    expect(await server.terminateBackends(DATABASE)).toBeGreaterThan(0);
    expect((await read).rows[0]?.answer).toBe(42);
    expect(log.lines().some((l) => l['msg'] === 'database connection lost during a read; reading again on a fresh connection')).toBe(true);
    expect(log.lines().some((l) => l['msg'] === 'database connection lost while in use; the query using it fails and the pool reconnects')).toBe(true);
  });

  it('on a pool of one, the lost connection is given back before the read is repeated', async () => {
    const single = await openDatabase({ url: server.url(DATABASE), dataDir: '', poolMax: 1, logger: log.logger });
    try {
      const read = sql<{ answer: number }>`select 43 as answer, pg_sleep(1.5) as marker_single_read`.execute(single.db);
      await untilRunning(server, 'marker_single_read');
      await server.terminateBackends(DATABASE);
      expect((await read).rows[0]?.answer).toBe(43);
    } finally {
      await single.close();
    }
  });

  it('a write whose backend is terminated fails with a connection-loss error (not repeated), and the next query works', async () => {
    const write = sql`with pause as (select pg_sleep(1.5) as marker_write) update webhook_deliveries set attempts = attempts from pause`.execute(handle.db);
    const failed = write.then(
      () => undefined,
      (error: unknown) => error,
    );
    await untilRunning(server, 'marker_write');
    await server.terminateBackends(DATABASE);
    const error = await failed;
    expect(error).toBeDefined();
    expect(isConnectionLost(error)).toBe(true);
    expect((error as { code?: string }).code ?? (error as Error).message).toMatch(/57P01|terminat/);
    await expect(handle.ping()).resolves.toBeUndefined();
  });

  it('after a server restart, idle pooled connections are replaced and queries work', async () => {
    await sql`select 1`.execute(handle.db);
    await server.restart();
    const { rows } = await sql<{ n: number }>`select 7 as n`.execute(handle.db);
    expect(rows[0]?.n).toBe(7);
  });

  it('the LISTEN connection is re-created after its backend is terminated and after a restart', async () => {
    const listenLog = capturingLogger('info');
    const payloads: string[] = [];
    let resubscribed = 0;
    const listener = createPostgresListener({
      connection: { connectionString: server.url(DATABASE) },
      channel: 'recap_fault_test',
      logger: listenLog.logger,
      reconnect: { baseMs: 50, maxMs: 200, minDelayMs: 20 },
      healthCheckMs: 0,
    });
    await listener.start({ onPayload: (p) => payloads.push(p), onResubscribed: () => (resubscribed += 1) });
    const notify = async (payload: string): Promise<void> => {
      await sql`select pg_notify('recap_fault_test', ${payload})`.execute(handle.db);
    };
    const until = async (check: () => boolean): Promise<void> => {
      for (let i = 0; i < 400 && !check(); i += 1) await sleep(25);
      expect(check()).toBe(true);
    };
    try {
      await notify('before');
      await until(() => payloads.includes('before'));
      await server.terminateBackends(DATABASE);
      await until(() => resubscribed === 1);
      await notify('after-kill');
      await until(() => payloads.includes('after-kill'));
      await server.restart();
      await until(() => resubscribed === 2);
      await notify('after-restart');
      await until(() => payloads.includes('after-restart'));
    } finally {
      await listener.close();
    }
  }, 60_000);

  describe('a slash command whose database work loses its connection', () => {
    let bot: InProcessBot;
    const commands: SlashCommand[] = [
      {
        data: { name: 'dbwrite', description: 'a write that takes a while' },
        async execute(interaction, ctx) {
          await interaction.deferReply();
          await sql`with pause as (select pg_sleep(1.5) as marker_cmd_write) update webhook_deliveries set attempts = attempts from pause`.execute(ctx.services.db);
          await interaction.editReply('written');
        },
      },
      {
        data: { name: 'dbread', description: 'a read that takes a while' },
        async execute(interaction, ctx) {
          await interaction.deferReply();
          const { rows } = await sql<{ n: number }>`select 5 as n, pg_sleep(1.5) as marker_cmd_read`.execute(ctx.services.db);
          await interaction.editReply(`read ${rows[0]?.n}`);
        },
      },
    ];

    beforeAll(async () => {
      bot = await startInProcessBot({ database: handle, provider: new TranscribingProvider(), commands: (defaults) => [...defaults, ...commands] });
    }, 60_000);
    afterAll(async () => {
      await bot?.close();
    });

    it('a read is repeated and the member gets the answer; a write gets a clear "try again"', async () => {
      const read = bot.discord.sendInteraction({ type: 'command', name: 'dbread', userId: bot.world.alice.id, channelId: bot.world.general.id });
      await untilRunning(server, 'marker_cmd_read');
      await server.terminateBackends(DATABASE);
      expect((await read.waitForFinal(() => true, 20_000)).content).toBe('read 5');

      const write = bot.discord.sendInteraction({ type: 'command', name: 'dbwrite', userId: bot.world.alice.id, channelId: bot.world.general.id });
      await untilRunning(server, 'marker_cmd_write');
      await server.terminateBackends(DATABASE);
      const reply = await write.waitForFinal(() => true, 20_000);
      expect(reply.content).toMatch(/^The database connection dropped while handling that; please try again in a moment\. \(ref `[0-9a-f]{8}`\)$/);
    }, 60_000);
  });
});

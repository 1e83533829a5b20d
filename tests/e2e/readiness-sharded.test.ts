/**
 * /readyz of a sharded deployment (SHARDS=2): the manager serves HTTP and
 * answers for its shard processes, each a real discord.js client on the
 * Discord emulator. 503 with a reason until the shards are READY, 200 once
 * they are, 503 while every shard is disconnected, 200 after they
 * reconnected; the merged /metrics shows each shard's state.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readyz, readyzAnswering } from '../helpers/readiness.ts';
import { startE2E, type E2E } from './harness.ts';

const postgresUrl = inject('postgresUrl');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(postgresUrl === '')(`/readyz with SHARDS=2${postgresUrl === '' ? ` [skipped: no Postgres, ${inject('postgresSkipReason')}]` : ''}`, () => {
  let e2e: E2E;
  let http: string;

  beforeAll(async () => {
    e2e = await startE2E({ env: { SHARDS: '2', SHARD_SPAWN_DELAY_MS: '0' }, discord: { maxConcurrency: 2, heartbeatIntervalMs: 500 }, startTimeoutMs: 80_000 });
    http = await e2e.bot.ready();
  }, 90_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('is ready once both shards are, and /metrics shows each shard up', async () => {
    expect(await readyz(http)).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', discord: 'ok' } } });
    const text = await (await fetch(`${http}/metrics`)).text();
    expect(text).toMatch(/^recap_discord_shard_up\{shard="0"\} 1$/m);
    expect(text).toMatch(/^recap_discord_shard_up\{shard="1"\} 1$/m);
  });

  it('answers 503 with the reason while every shard is disconnected, and 200 once they reconnected', async () => {
    e2e.discord.gateway.outage();
    const down = await readyzAnswering(http, 503, 15_000);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { database: 'ok', discord: 'disconnected' } });
    expect(down.body.reason).toMatch(/^discord: every gateway shard is disconnected \(shard 0: \w[^,]*, shard 1: \w/);
    expect((await fetch(`${http}/healthz`)).status).toBe(200);

    e2e.discord.gateway.restore();
    const up = await readyzAnswering(http, 200, 45_000);
    expect(up.body).toEqual({ status: 'ready', checks: { database: 'ok', discord: 'ok' } });
  }, 70_000);

  it('answers 503 while every shard process is gone, and 200 once the manager started them again', async () => {
    const pids = new Map<unknown, number>();
    for (const line of e2e.bot.lines) if (line.msg === 'connected to Discord') pids.set(line.json?.['shard'], line.json?.['pid'] as number);
    expect([...pids.keys()].sort()).toEqual([0, 1]);
    for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
    const down = await readyzAnswering(http, 503, 15_000);
    expect(down.body.checks).toEqual({ database: 'ok', discord: 'disconnected' });
    expect(down.body.reason).toMatch(/^discord: every gateway shard is disconnected \(shard 0: (process exited|starting), shard 1: (process exited|starting)\)$/);
    const up = await readyzAnswering(http, 200, 90_000);
    expect(up.body).toEqual({ status: 'ready', checks: { database: 'ok', discord: 'ok' } });
  }, 120_000);

  it('a second deployment answers 503 until its shards are READY', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // A deployment's shards run once (shard claims): the first one stops, as in a stop-first replacement.
    await e2e.bot.stop(30_000);
    e2e.discord.gateway.holdIdentify();
    const second = e2e.spawnBot({ HTTP_PORT: String(port), DISCORD_REGISTER_COMMANDS: 'false' });
    try {
      const starting = await readyzAnswering(base, 503, 60_000);
      expect(starting.body).toMatchObject({ status: 'unavailable', checks: { database: 'ok', discord: 'starting' } });
      expect(starting.body.reason).toMatch(/^discord: waiting for the gateway's READY/);
      e2e.discord.gateway.releaseIdentify();
      // Ready from the first READY shard on: it serves its guilds while the next one starts.
      const ready = await readyzAnswering(base, 200, 60_000);
      expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', discord: 'ok' } });
    } finally {
      e2e.discord.gateway.releaseIdentify();
      await second.ready(60_000).catch(() => undefined);
      await second.stop(30_000);
    }
  }, 150_000);
});

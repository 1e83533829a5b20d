import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import { createPgliteDatabase, createPostgresDatabase, describeEachDatabase, silentLogger } from '../helpers/databases.ts';

const config = loadConfig({ HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', DATABASE_MIGRATE_ON_START: 'false' });

describeEachDatabase('HTTP surface', (database) => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await createApp(config, silentLogger, { database: database().handle });
    base = (await app.start()).url;
  });
  afterAll(async () => {
    await app.http.close();
  });

  it('GET /healthz says the process is alive', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the database', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
  });

  it('GET /metrics serves the Prometheus text format: process and Node metrics by their standard names, the bot\'s own with recap_', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^# TYPE process_resident_memory_bytes gauge$/m);
    expect(text).toMatch(/^# TYPE nodejs_heap_size_used_bytes gauge$/m);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    const metricNames = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    const own = metricNames.filter((name) => !/^(process|nodejs)_/.test(name));
    expect(own.length).toBeGreaterThan(5);
    for (const name of own) expect(name).toMatch(/^recap_/);
    expect(metricNames.filter((name) => /^recap_(process_(cpu|resident|start|open|max|heap|virtual)|nodejs_)/.test(name))).toEqual([]);
  });

  it('answers 404 and 405 with JSON', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const res = await fetch(`${base}/healthz`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('GET /readyz with the database down', () => {
  it.for(['pglite', 'postgres'] as const)('answers 503 with a reason (%s)', async (kind, ctx) => {
    let handle;
    if (kind === 'pglite') handle = await createPgliteDatabase();
    else {
      const { inject } = await import('vitest');
      if (inject('postgresUrl') === '') {
        ctx.skip();
        return;
      }
      handle = (await createPostgresDatabase()).handle;
    }
    const app = await createApp(config, silentLogger, { database: handle });
    const { url } = await app.start();
    try {
      await handle.close();
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; reason: string };
      expect(body.status).toBe('unavailable');
      expect(body.reason).toMatch(/^database: \S/);
      // Liveness is independent of the database.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await app.http.close();
    }
  });
});

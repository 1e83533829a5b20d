import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { createInvalidationBus, DEFAULT_CHANNEL, type InvalidationBus } from '../../src/invalidation/bus.ts';
import type { InvalidationEvent } from '../../src/invalidation/events.ts';
import { LISTENER_APPLICATION_NAME } from '../../src/invalidation/postgres-listener.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';
import { describeEachDatabase, silentLogger, type TestDatabase } from '../helpers/databases.ts';
import { buildEngine, promptRepoFiles, type EngineUnderTest } from '../prompts/engine-helpers.ts';
import { capturingLogger, postWebhook, pushPayload, startWebhookApp } from '../webhooks/helpers.ts';
import { waitFor } from './helpers.ts';

const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };
const fast = { reconnect: { baseMs: 20, maxMs: 200, minDelayMs: 10 } };

/** A second "process": its own connections to the same database (PGlite has one in-process instance). */
async function secondHandle(test: TestDatabase): Promise<DatabaseHandle> {
  if (test.kind === 'pglite') return test.handle;
  return openDatabase({ url: test.url, dataDir: '', poolMax: 3, logger: silentLogger });
}

function recorder(bus: InvalidationBus): InvalidationEvent[] {
  const seen: InvalidationEvent[] = [];
  bus.subscribe((event) => {
    seen.push(event);
  });
  return seen;
}

describeEachDatabase('invalidation bus', (database) => {
  let other: DatabaseHandle;
  let github: GitHubEmulator;
  let running: RunningEmulator;
  let clock: ManualClock;

  beforeAll(async () => {
    other = await secondHandle(database());
    clock = new ManualClock(Date.parse('2026-11-03T12:00:00Z'));
    github = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
    running = await github.start();
  });
  afterAll(async () => {
    await running.close();
    if (other !== database().handle) await other.close();
  });

  it('delivers a publish to the other process and not back to the publisher', async () => {
    const a = await createInvalidationBus(database().handle, silentLogger, fast);
    const b = await createInvalidationBus(other, silentLogger, fast);
    try {
      const seenA = recorder(a);
      const seenB = recorder(b);
      await a.publish({ kind: 'guild', guildId: 'g-pub' });
      await a.publish({ kind: 'repo', owner: 'acme', repo: 'prompts', ref: 'main', commit: 'c'.repeat(40) });
      await waitFor(() => seenB.length === 2, 'both events at b');
      expect(seenB).toEqual([
        { kind: 'guild', guildId: 'g-pub' },
        { kind: 'repo', owner: 'acme', repo: 'prompts', ref: 'main', commit: 'c'.repeat(40) },
      ]);
      await b.publish({ kind: 'all' });
      await waitFor(() => seenA.length === 1, 'the event at a');
      expect(seenA).toEqual([{ kind: 'all' }]);
      expect(seenB).toHaveLength(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ignores hostile or garbled notifications with a log line and keeps working', async () => {
    const { logger, lines } = capturingLogger();
    const b = await createInvalidationBus(other, logger, fast);
    try {
      const seen = recorder(b);
      const db = database().handle.db;
      await sql`select pg_notify(${DEFAULT_CHANNEL}, ${'{"v":1,"origin":"x","event":{"kind":"guild","guildId":"1; drop table secrets"}}'})`.execute(db);
      await sql`select pg_notify(${DEFAULT_CHANNEL}, ${'\u0001garbage'})`.execute(db);
      const a = await createInvalidationBus(database().handle, silentLogger, fast);
      await a.publish({ kind: 'guild', guildId: 'after-garbage' });
      await a.close();
      await waitFor(() => seen.length === 1, 'the valid event');
      expect(seen).toEqual([{ kind: 'guild', guildId: 'after-garbage' }]);
      const warned = lines().filter((l) => l.msg === 'ignored an invalid invalidation message');
      expect(warned).toHaveLength(1); // the second one falls in the same 10 s window
      expect(String(warned[0]?.reason)).toMatch(/event\.guildId/);
    } finally {
      await b.close();
    }
  });

  it('a push received by one process reaches the other: its held snapshot is replaced from the shared store', async () => {
    github.createRepo('acme/shared', { files: promptRepoFiles('V1') });
    const webhookProcess = await startWebhookApp(database().handle, { apiUrl: running.baseUrl, clock });
    const otherEngine: EngineUnderTest = await buildEngine(other, { apiUrl: running.baseUrl, clock });
    const otherBus = await createInvalidationBus(other, silentLogger, fast);
    const unwire = otherBus.subscribe((event) => otherEngine.engine.applyRemote(event));
    try {
      const inspected = await webhookProcess.engine.inspect({ guildId: 'inv-1', repoUrl: 'acme/shared', branch: 'main' });
      if (!inspected.ok) throw new Error(inspected.message);
      await webhookProcess.engine.saveConfig({ ...inspected.config, actorId: 'admin' });
      const before = await otherEngine.engine.resolver.resolve('inv-1', ctx);
      expect(before.content).toContain('V1');

      const sha = github.push('acme/shared', 'main', promptRepoFiles('V2'));
      const res = await postWebhook(webhookProcess.url, { event: 'push', body: pushPayload('acme/shared', { after: sha }) });
      expect(res.status).toBe(202);
      await webhookProcess.webhooks.drain();
      const fetchedByWebhook = github.count();

      const after = await waitFor(async () => {
        const r = await otherEngine.engine.resolver.resolve('inv-1', ctx);
        return r.commit === sha ? r : undefined;
      }, 'the other process to serve the pushed commit');
      expect(after.level).toBe('custom');
      expect(after.content).toContain('V2');
      await otherEngine.engine.settle();
      // The other process read the snapshot the webhook process stored: no GitHub request of its own.
      expect(github.count()).toBe(fetchedByWebhook);
      // Its copy of the guild's config was dropped too, so it sees the recorded push.
      expect((await otherEngine.engine.config('inv-1'))?.lastPushAt).not.toBeNull();
    } finally {
      unwire();
      await otherBus.close();
      await otherEngine.engine.settle();
      await webhookProcess.close();
    }
  });

  it('a guild event makes the other process reload the guild config', async () => {
    github.createRepo('acme/cfg-a', { files: promptRepoFiles('CFG-A') });
    github.createRepo('acme/cfg-b', { files: promptRepoFiles('CFG-B') });
    const one = await buildEngine(database().handle, { apiUrl: running.baseUrl, clock });
    const two = await buildEngine(other, { apiUrl: running.baseUrl, clock });
    const busOne = await createInvalidationBus(database().handle, silentLogger, fast);
    const busTwo = await createInvalidationBus(other, silentLogger, fast);
    const unwire = busTwo.subscribe((event) => two.engine.applyRemote(event));
    try {
      const save = async (repo: string) => {
        const inspected = await one.engine.inspect({ guildId: 'inv-cfg', repoUrl: repo, branch: 'main' });
        if (!inspected.ok) throw new Error(inspected.message);
        await one.engine.saveConfig({ ...inspected.config, actorId: 'admin' });
      };
      await save('acme/cfg-a');
      expect((await two.engine.resolver.resolve('inv-cfg', ctx)).content).toContain('CFG-A');
      await save('acme/cfg-b');
      // Without the event the other process still holds the old config.
      expect((await two.engine.resolver.resolve('inv-cfg', ctx)).content).toContain('CFG-A');
      await busOne.publish({ kind: 'guild', guildId: 'inv-cfg' });
      await waitFor(async () => ((await two.engine.resolver.resolve('inv-cfg', ctx)).content.includes('CFG-B') ? true : undefined), 'the new config');
    } finally {
      unwire();
      await busOne.close();
      await busTwo.close();
      await one.engine.settle();
      await two.engine.settle();
    }
  });

  it('after the listening connection is killed it subscribes again, tells its handlers, and later messages arrive', async (context) => {
    if (database().kind !== 'postgres') context.skip('PGlite is in-process: there is no connection to lose');
    const a = await createInvalidationBus(database().handle, silentLogger, fast);
    const b = await createInvalidationBus(other, silentLogger, fast);
    const admin = new pg.Client({ connectionString: inject('postgresUrl') });
    await admin.connect();
    try {
      const seen = recorder(b);
      const listeners = async () =>
        (
          await admin.query<{ pid: number }>(
            'select pid from pg_stat_activity where application_name = $1 and datname = $2',
            [LISTENER_APPLICATION_NAME, new URL(database().url as string).pathname.slice(1)],
          )
        ).rows.map((r) => r.pid);
      const before = await listeners();
      expect(before).toHaveLength(2);
      for (const pid of before) await admin.query('select pg_terminate_backend($1)', [pid]);

      // Both listeners come back on new backends; b's handlers hear that messages may have been missed.
      await waitFor(async () => {
        const now = await listeners();
        return now.length === 2 && now.every((pid) => !before.includes(pid)) ? true : undefined;
      }, 'new listener backends');
      await waitFor(() => seen.some((e) => e.kind === 'all'), 'the resync event');
      await a.publish({ kind: 'guild', guildId: 'after-reconnect' });
      await waitFor(() => seen.some((e) => e.kind === 'guild' && e.guildId === 'after-reconnect'), 'a message after reconnecting');
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  });

  it('after a resync event the other process revalidates everything it holds', async () => {
    github.createRepo('acme/resync', { files: promptRepoFiles('RS1') });
    const engine = await buildEngine(other, { apiUrl: running.baseUrl, clock });
    const bus = await createInvalidationBus(other, silentLogger, fast);
    const publisher = await createInvalidationBus(database().handle, silentLogger, fast);
    const unwire = bus.subscribe((event) => engine.engine.applyRemote(event));
    try {
      const inspected = await engine.engine.inspect({ guildId: 'inv-rs', repoUrl: 'acme/resync', branch: 'main' });
      if (!inspected.ok) throw new Error(inspected.message);
      await engine.engine.saveConfig({ ...inspected.config, actorId: 'admin' });
      expect((await engine.engine.resolver.resolve('inv-rs', ctx)).level).toBe('custom');
      await publisher.publish({ kind: 'all' });
      await waitFor(async () => ((await engine.engine.resolver.resolve('inv-rs', ctx)).level === 'cached' ? true : undefined), 'the snapshot to be expired');
      await engine.engine.settle();
      expect((await engine.engine.resolver.resolve('inv-rs', ctx)).level).toBe('custom');
    } finally {
      unwire();
      await bus.close();
      await publisher.close();
      await engine.engine.settle();
    }
  });
});

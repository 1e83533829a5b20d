import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.ts';
import { configureGuild, promptRepoFiles } from '../prompts/engine-helpers.ts';
import {
  examplePayload,
  metricValue,
  newDeliveryId,
  pingPayload,
  postWebhook,
  pushPayload,
  repositoryPayload,
  sign,
  startWebhookApp,
  useWebhookApp,
} from './helpers.ts';

const MINUTE = 60_000;
const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

describeEachDatabase('GitHub webhooks', (database) => {
  const suite = useWebhookApp(database, '2026-11-02T09:00:00Z');
  const { server } = suite;
  const { clock, github } = server;
  let guildSeq = 0;

  async function configure(repo: string, branch?: string): Promise<string> {
    const guildId = `wh${++guildSeq}`;
    await configureGuild(suite.app.engine, guildId, repo, branch ? { branch } : {});
    return guildId;
  }

  const deliveries = (id: string) => suite.app.webhooks.store.get(id);
  const metric = (event: string, outcome: string) => metricValue(suite.app.registry, 'recap_webhook_deliveries_total', { event, outcome });

  it('a signed push makes the next resolution serve the new commit, with last push and sync recorded', async () => {
    github.createRepo('acme/live', { files: promptRepoFiles('OLD') });
    const guild = await configure('acme/live');
    expect((await suite.app.engine.resolver.resolve(guild, ctx)).content).toContain('OLD');
    const sha = github.push('acme/live', 'main', promptRepoFiles('NEW'));
    const accepted = await metric('push', 'accepted');

    const res = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/live', { after: sha }) });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', delivery: res.delivery });
    await suite.app.webhooks.drain();

    const r = await suite.app.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('custom');
    expect(r.commit).toBe(sha);
    expect(r.content).toContain('NEW');
    const status = await suite.app.engine.status(guild);
    expect(status.config?.lastPushAt?.getTime()).toBe(clock.now());
    expect(status.config?.lastSyncStatus).toBe('ok');
    expect(status.config?.lastSyncCommit).toBe(sha);
    expect(await deliveries(res.delivery)).toMatchObject({ status: 'done', attempts: 1, event: 'push', repo: 'acme/live' });
    expect(await metric('push', 'accepted')).toBe(accepted + 1);
  });

  it('a wrong or missing signature is refused with 401 and changes nothing', async () => {
    github.createRepo('acme/forged', { files: promptRepoFiles('REAL') });
    const guild = await configure('acme/forged');
    const before = await suite.app.engine.resolver.resolve(guild, ctx);
    const sha = github.push('acme/forged', 'main', promptRepoFiles('FORGED'));
    github.resetStats();
    const body = JSON.stringify(pushPayload('acme/forged', { after: sha }));

    const wrongSecret = await postWebhook(suite.app.url, { event: 'push', body, signature: await sign(body, 'not-the-secret') });
    const missing = await postWebhook(suite.app.url, { event: 'push', body, signature: null });
    const garbage = await postWebhook(suite.app.url, { event: 'push', body, signature: 'sha256=zz' });
    const otherBody = await postWebhook(suite.app.url, { event: 'push', body, signature: await sign(`${body} `) });
    for (const res of [wrongSecret, missing, garbage, otherBody]) {
      expect(res.status).toBe(401);
      expect(await deliveries(res.delivery)).toBeUndefined();
    }
    await suite.app.webhooks.drain();
    expect(github.count()).toBe(0);
    const after = await suite.app.engine.resolver.resolve(guild, ctx);
    expect(after.commit).toBe(before.commit);
    expect(after.content).toContain('REAL');
    expect((await suite.app.engine.status(guild)).config?.lastPushAt).toBeNull();
    expect(await metric('push', 'bad_signature')).toBeGreaterThanOrEqual(4);
  });

  it('refuses an oversized body with 413, and unreadable JSON with a valid signature with 400', async () => {
    const big = JSON.stringify({ zen: 'x'.repeat(1024 * 1024) });
    const oversized = await postWebhook(suite.app.url, { event: 'push', body: big });
    expect(oversized.status).toBe(413);
    expect(await deliveries(oversized.delivery)).toBeUndefined();

    const full = JSON.stringify(pushPayload('acme/any', { after: 'a'.repeat(40) }));
    const truncated = await postWebhook(suite.app.url, { event: 'push', body: full.slice(0, full.length / 2) });
    expect(truncated.status).toBe(400);
    expect(truncated.body.error).toMatch(/not valid JSON/);
    const notJson = await postWebhook(suite.app.url, { event: 'push', body: 'payload=%7B%7D' });
    expect(notJson.status).toBe(400);
    const notObject = await postWebhook(suite.app.url, { event: 'push', body: '[1,2]' });
    expect(notObject.status).toBe(400);
    const shapeless = await postWebhook(suite.app.url, { event: 'push', body: { ref: 'refs/heads/main' } });
    expect(shapeless.status).toBe(400);
    expect(shapeless.body.error).toMatch(/not a push payload \(after:/);
    const form = await postWebhook(suite.app.url, { event: 'push', body: 'payload=%7B%7D', contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body.error).toMatch(/content type to application\/json/);
    for (const res of [truncated, notJson, notObject, shapeless, form]) expect(await deliveries(res.delivery)).toBeUndefined();
    expect(await metric('push', 'error')).toBeGreaterThanOrEqual(5);
  });

  it('processes a delivery id once: a replay is a duplicate, also after a restart', async () => {
    github.createRepo('acme/replay', { files: promptRepoFiles('ONE') });
    const guild = await configure('acme/replay');
    const sha = github.push('acme/replay', 'main', promptRepoFiles('TWO'));
    const body = pushPayload('acme/replay', { after: sha });
    const first = await postWebhook(suite.app.url, { event: 'push', body });
    expect(first.status).toBe(202);
    await suite.app.webhooks.drain();
    github.resetStats();

    const replay = await postWebhook(suite.app.url, { event: 'push', body, delivery: first.delivery });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ status: 'duplicate' });
    expect(await metric('push', 'duplicate')).toBe(1);

    // A new process over the same database still knows the delivery.
    const restarted = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock });
    try {
      const again = await postWebhook(restarted.url, { event: 'push', body, delivery: first.delivery });
      expect(again.body).toMatchObject({ status: 'duplicate' });
      await restarted.webhooks.drain();
      expect(github.count()).toBe(0);
      expect(await deliveries(first.delivery)).toMatchObject({ status: 'done', attempts: 1 });
      expect((await restarted.engine.resolver.resolve(guild, ctx)).commit).toBe(sha);
    } finally {
      await restarted.close();
    }
  });

  it('acknowledges what it does not act on: another branch, a tag, an unused repo, unknown events, ping', async () => {
    github.createRepo('acme/branches', { files: promptRepoFiles('MAIN') });
    const guild = await configure('acme/branches');
    const dev = github.push('acme/branches', 'dev', promptRepoFiles('DEV'));
    github.resetStats();
    const ignored = await metric('push', 'ignored');

    const otherBranch = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/branches', { branch: 'dev', after: dev }) });
    expect(otherBranch).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'no guild uses acme/branches@dev' } });
    const tag = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/branches', { ref: 'refs/tags/v1', after: dev }) });
    expect(tag.body).toMatchObject({ status: 'ignored', reason: 'refs/tags/v1 is not a branch' });
    const unused = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('nobody/uses-this', { after: dev }) });
    expect(unused.body).toMatchObject({ status: 'ignored' });
    expect(await metric('push', 'ignored')).toBe(ignored + 3);

    const star = await postWebhook(suite.app.url, { event: 'star', body: examplePayload('star') });
    expect(star.body).toMatchObject({ status: 'ignored', reason: 'event "star" is not used' });
    expect(await metric('other', 'ignored')).toBeGreaterThanOrEqual(1);
    const edited = await postWebhook(suite.app.url, { event: 'repository', body: repositoryPayload('edited', 'acme/branches') });
    expect(edited.body).toMatchObject({ status: 'ignored' });

    const ping = await postWebhook(suite.app.url, { event: 'ping', body: pingPayload() });
    expect(ping).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await metric('ping', 'accepted')).toBe(1);
    expect(await deliveries(ping.delivery)).toMatchObject({ status: 'done', result: 'ping' });
    expect(await deliveries(otherBranch.delivery)).toMatchObject({ status: 'done', result: 'ignored: no guild uses acme/branches@dev' });

    await suite.app.webhooks.drain();
    expect(github.count()).toBe(0);
    expect((await suite.app.engine.resolver.resolve(guild, ctx)).content).toContain('MAIN');
  });

  it('a push with a broken PATH keeps the last good snapshot and records PATH:line; the next good push recovers', async () => {
    github.createRepo('acme/broken', { files: promptRepoFiles('GOOD') });
    const guild = await configure('acme/broken');
    const bad = github.push('acme/broken', 'main', { PATH: 'version: v1\nroutes:\n  a: "x.md"\n  a: "y.md"\n' });
    expect((await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/broken', { after: bad }) })).status).toBe(202);
    await suite.app.webhooks.drain();

    const kept = await suite.app.engine.resolver.resolve(guild, ctx);
    expect(kept.level).toBe('cached');
    expect(kept.content).toContain('GOOD');
    const status = await suite.app.engine.status(guild);
    expect(status.config?.lastSyncStatus).toBe('invalid');
    expect(status.config?.lastSyncCommit).toBe(bad);
    expect(status.config?.lastSyncErrors.join('\n')).toMatch(/PATH:4(:\d+)?: /);

    const good = github.push('acme/broken', 'main', promptRepoFiles('FIXED'));
    expect((await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/broken', { after: good }) })).status).toBe(202);
    await suite.app.webhooks.drain();
    const fixed = await suite.app.engine.resolver.resolve(guild, ctx);
    expect(fixed).toMatchObject({ level: 'custom', commit: good });
    expect(fixed.content).toContain('FIXED');
    expect((await suite.app.engine.status(guild)).config).toMatchObject({ lastSyncStatus: 'ok', lastSyncErrors: [] });
  });

  it('records renamed, transferred and deleted repositories for the guilds that use them', async () => {
    github.createRepo('acme/old-name', { files: promptRepoFiles('R') });
    github.createRepo('olduser/moving', { files: promptRepoFiles('T') });
    github.createRepo('acme/doomed', { files: promptRepoFiles('D') });
    const renamedGuild = await configure('acme/old-name');
    const movedGuild = await configure('olduser/moving');
    const deletedGuild = await configure('acme/doomed');

    const renamed = await postWebhook(suite.app.url, { event: 'repository', body: repositoryPayload('renamed', 'acme/old-name', 'acme/new-name') });
    const transferred = await postWebhook(suite.app.url, { event: 'repository', body: repositoryPayload('transferred', 'olduser/moving', 'neworg/moving') });
    const deleted = await postWebhook(suite.app.url, { event: 'repository', body: repositoryPayload('deleted', 'acme/doomed') });
    for (const res of [renamed, transferred, deleted]) expect(res.status).toBe(202);
    await suite.app.webhooks.drain();

    expect((await suite.app.engine.status(renamedGuild)).config?.repoEvent).toMatch(/^renamed: acme\/old-name is now acme\/new-name .*\/prompt-config set/);
    expect((await suite.app.engine.status(movedGuild)).config?.repoEvent).toMatch(/^transferred: olduser\/moving now belongs to neworg/);
    expect((await suite.app.engine.status(deletedGuild)).config?.repoEvent).toMatch(/^deleted: acme\/doomed was deleted on GitHub/);
    expect(await deliveries(renamed.delivery)).toMatchObject({ status: 'done', action: 'renamed', repo: 'acme/old-name' });
  });

  it('when the delivery cannot be recorded it answers 503 and nothing is lost: the redelivery is processed', async () => {
    github.createRepo('acme/outage', { files: promptRepoFiles('BEFORE') });
    const guild = await configure('acme/outage');
    const sha = github.push('acme/outage', 'main', promptRepoFiles('AFTER'));
    const body = pushPayload('acme/outage', { after: sha });
    const db = database().handle.db;
    await sql`alter table webhook_deliveries rename to webhook_deliveries_away`.execute(db);
    let failed;
    try {
      failed = await postWebhook(suite.app.url, { event: 'push', body });
    } finally {
      await sql`alter table webhook_deliveries_away rename to webhook_deliveries`.execute(db);
    }
    expect(failed.status).toBe(503);
    expect(await deliveries(failed.delivery)).toBeUndefined();
    await suite.app.webhooks.drain();
    expect((await suite.app.engine.resolver.resolve(guild, ctx)).content).toContain('BEFORE');

    const redelivered = await postWebhook(suite.app.url, { event: 'push', body, delivery: failed.delivery });
    expect(redelivered.status).toBe(202);
    await suite.app.webhooks.drain();
    expect((await suite.app.engine.resolver.resolve(guild, ctx)).commit).toBe(sha);
  });

  it('when processing fails the row stays failed with its attempts, and the sweeper retries it', async () => {
    github.createRepo('acme/retry', { files: promptRepoFiles('FIRST') });
    const guild = await configure('acme/retry');
    const sha = github.push('acme/retry', 'main', promptRepoFiles('SECOND'));
    const db = database().handle.db;
    // The configs can be read (so the delivery is accepted) but not written: processing fails.
    await sql`create or replace function recap_test_outage() returns trigger language plpgsql as $$ begin raise exception 'simulated database outage'; end $$`.execute(db);
    await sql`create trigger recap_test_outage before update on guild_prompt_configs for each row execute function recap_test_outage()`.execute(db);
    let res;
    try {
      res = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('acme/retry', { after: sha }) });
      expect(res.status).toBe(202);
      await suite.app.webhooks.drain();
      const row = await deliveries(res.delivery);
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row?.error).toMatch(/simulated database outage/);
      expect(row?.nextAttemptAt?.getTime()).toBeGreaterThan(clock.now());
      // Not due yet: the sweeper leaves it.
      expect(await suite.app.webhooks.sweeper.sweepNow()).toBe(0);
    } finally {
      await sql`drop trigger if exists recap_test_outage on guild_prompt_configs`.execute(db);
    }
    clock.advance(11 * MINUTE);
    expect(await suite.app.webhooks.sweeper.sweepNow()).toBe(1);
    await suite.app.webhooks.drain();
    expect(await deliveries(res.delivery)).toMatchObject({ status: 'done', attempts: 2, error: null });
    expect((await suite.app.engine.resolver.resolve(guild, ctx)).commit).toBe(sha);
    expect(await metricValue(suite.app.registry, 'recap_webhook_processing_total', { event: 'push', outcome: 'retry' })).toBe(1);
  });

  it('a delivery left queued by a crash is processed by the next process at start-up', async () => {
    github.createRepo('acme/crash', { files: promptRepoFiles('PRE') });
    const guild = await configure('acme/crash');
    const sha = github.push('acme/crash', 'main', promptRepoFiles('POST'));
    const id = newDeliveryId();
    // What the crashed process had written: accepted, held by it, never finished.
    await suite.app.webhooks.store.insert({
      deliveryId: id,
      event: 'push',
      action: null,
      repo: 'acme/crash',
      status: 'queued',
      payload: { kind: 'push', owner: 'acme', repo: 'crash', ref: 'refs/heads/main', after: sha, deleted: false },
      result: null,
      receivedAt: new Date(clock.now()),
      nextAttemptAt: new Date(clock.now()),
      claimedUntil: new Date(clock.now() + MINUTE),
    });
    expect(await suite.app.webhooks.sweeper.sweepNow()).toBe(0); // still held by the "crashed" process
    clock.advance(2 * MINUTE);
    const next = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock });
    try {
      next.webhooks.start();
      await next.webhooks.sweeper.sweepNow();
      await next.webhooks.drain();
      expect(await deliveries(id)).toMatchObject({ status: 'done', attempts: 1 });
      expect((await next.engine.resolver.resolve(guild, ctx)).commit).toBe(sha);
    } finally {
      await next.close();
    }
  });

  it('acknowledges a burst of 200 concurrent deliveries and loses none', async () => {
    const repos = ['acme/burst-a', 'acme/burst-b', 'acme/burst-c', 'acme/burst-d'];
    const heads = new Map<string, string>();
    for (const repo of repos) {
      github.createRepo(repo, { files: promptRepoFiles('B0') });
      await configure(repo);
      heads.set(repo, github.push(repo, 'main', promptRepoFiles(`B1-${repo}`)));
    }
    github.resetStats();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const repo = repos[i % repos.length] as string;
        return postWebhook(suite.app.url, { event: 'push', body: pushPayload(repo, { after: heads.get(repo) as string }) });
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 200 }, () => 202));
    await suite.app.webhooks.drain();
    const rows = await Promise.all(results.map((r) => deliveries(r.delivery)));
    expect(rows.filter((r) => r?.status === 'done')).toHaveLength(200);
    // The same push under 50 delivery ids is downloaded once per repository.
    expect(github.count('tarball')).toBe(repos.length);
    for (const repo of repos) {
      const [owner, name] = repo.split('/') as [string, string];
      const [config] = await suite.app.engine.configsReading(owner, name);
      if (config === undefined) throw new Error(`no config for ${repo}`);
      expect((await suite.app.engine.heldSnapshot(config.guildId))?.parsed).not.toBeNull();
      expect((await suite.app.engine.status(config.guildId)).commit).toBe(heads.get(repo));
    }
  });

  it('gives up after the last attempt and leaves the row failed for people to see', async () => {
    github.createRepo('acme/give-up', { files: promptRepoFiles('G') });
    await configure('acme/give-up');
    const sha = github.push('acme/give-up', 'main', promptRepoFiles('G2'));
    const once = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock, webhook: { retry: { maxAttempts: 1, baseMs: 1_000, maxMs: 1_000 } } });
    const db = database().handle.db;
    await sql`create or replace function recap_test_outage() returns trigger language plpgsql as $$ begin raise exception 'simulated database outage'; end $$`.execute(db);
    await sql`create trigger recap_test_outage before update on guild_prompt_configs for each row execute function recap_test_outage()`.execute(db);
    try {
      const res = await postWebhook(once.url, { event: 'push', body: pushPayload('acme/give-up', { after: sha }) });
      expect(res.status).toBe(202);
      await once.webhooks.drain();
      expect(await deliveries(res.delivery)).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: null });
      clock.advance(60 * MINUTE);
      expect(await once.webhooks.sweeper.sweepNow()).toBe(0);
      expect(await metricValue(once.registry, 'recap_webhook_processing_total', { event: 'push', outcome: 'gave_up' })).toBe(1);
    } finally {
      await sql`drop trigger if exists recap_test_outage on guild_prompt_configs`.execute(db);
      await once.close();
    }
  });

  it('answers 503 and counts it while no secret is configured', async () => {
    const unconfigured = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock, secret: null });
    try {
      const res = await postWebhook(unconfigured.url, { event: 'ping', body: pingPayload() });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/webhooks are not configured/);
      expect(await deliveries(res.delivery)).toBeUndefined();
      expect(await metricValue(unconfigured.registry, 'recap_webhook_deliveries_total', { event: 'ping', outcome: 'error' })).toBe(1);
    } finally {
      await unconfigured.close();
    }
  });
});

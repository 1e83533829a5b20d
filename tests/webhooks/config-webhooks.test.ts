/**
 * Per-config webhooks (issue 12 §3): every guild's prompt config has its
 * own payload URL and secret, so one guild's admin, who knows only their
 * own secret, cannot change another guild's config, stretch another
 * guild's TTL, or make the bot spend GitHub's rate limit with replays.
 * Each test feeds the attack over real HTTP and checks both the refusal
 * and that nothing else changed.
 */
import { expect, it } from 'vitest';
import { CONFIG_WEBHOOK_PREFIX } from '../../src/webhooks/github-route.ts';
import { recentWebhookRepos } from '../../src/webhooks/recent-repos.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { configureGuild, promptRepoFiles } from '../prompts/engine-helpers.ts';
import { WEBHOOK_SECRET, pingPayload, postWebhook, pushPayload, repositoryPayload, startWebhookApp, useWebhookApp, type WebhookApp } from './helpers.ts';

const MINUTE = 60_000;
const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

describeEachDatabase('per-config GitHub webhooks', (database) => {
  const suite = useWebhookApp(database, '2026-11-02T09:00:00Z');
  const { server } = suite;
  const { clock, github } = server;
  let guildSeq = 0;

  async function configure(repo: string, target: WebhookApp = suite.app): Promise<string> {
    const guildId = `cw${++guildSeq}`;
    await configureGuild(target.engine, guildId, repo);
    return guildId;
  }

  /** A guild with its own hook: what `/prompt-config webhook` creates. */
  async function withHook(repo: string): Promise<{ guildId: string; path: string; secret: string; hookId: string }> {
    const guildId = await configure(repo);
    const issued = await suite.app.hooks.issue(guildId, 'admin', new Date(clock.now()));
    return { guildId, path: `${CONFIG_WEBHOOK_PREFIX}${issued.hookId}`, secret: issued.secret.reveal(), hookId: issued.hookId };
  }

  const row = (id: string) => suite.app.webhooks.store.get(id);
  const config = async (guildId: string) => (await suite.app.engine.status(guildId)).config;

  it("a push to a config's own URL, signed with its own secret, refreshes that config and records the delivery", async () => {
    github.createRepo('acme/own', { files: promptRepoFiles('OLD') });
    const hook = await withHook('acme/own');
    expect((await suite.app.engine.resolver.resolve(hook.guildId, ctx)).content).toContain('OLD');
    const sha = github.push('acme/own', 'main', promptRepoFiles('NEW'));

    const res = await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: hook.secret, body: pushPayload('acme/own', { after: sha }) });
    expect(res.status).toBe(202);
    await suite.app.webhooks.drain();

    expect((await suite.app.engine.resolver.resolve(hook.guildId, ctx)).commit).toBe(sha);
    expect(await config(hook.guildId)).toMatchObject({ lastSyncCommit: sha, lastSyncStatus: 'ok' });
    expect(await row(res.delivery)).toMatchObject({ status: 'done', repo: 'acme/own' });
    const stored = await suite.app.hooks.forGuild(hook.guildId);
    expect(stored?.lastDeliveryAt?.getTime()).toBe(clock.now());
    expect(stored?.verifiedAt?.getTime()).toBe(clock.now());
  });

  it("a forged repository event changes only the forger's own config; with the wrong secret or URL it is refused", async () => {
    github.createRepo('victim/prompts', { files: promptRepoFiles('V') });
    const victim = await withHook('victim/prompts');
    // The attacker points their own guild at the victim's repository and gets a hook for it.
    const attacker = await withHook('victim/prompts');
    const renamed = repositoryPayload('renamed', 'victim/prompts', 'victim/evil');

    const viaOwnHook = await postWebhook(suite.app.url, { event: 'repository', path: attacker.path, secret: attacker.secret, body: renamed });
    expect(viaOwnHook.status).toBe(202);
    await suite.app.webhooks.drain();
    expect((await config(attacker.guildId))?.repoEvent).toMatch(/^renamed: victim\/prompts is now victim\/evil/);
    expect((await config(victim.guildId))?.repoEvent).toBeNull();

    const viaVictimUrl = await postWebhook(suite.app.url, { event: 'repository', path: victim.path, secret: attacker.secret, body: renamed });
    const viaOperatorUrl = await postWebhook(suite.app.url, { event: 'repository', secret: attacker.secret, body: renamed });
    for (const res of [viaVictimUrl, viaOperatorUrl]) {
      expect(res.status).toBe(401);
      expect(await row(res.delivery)).toBeUndefined();
    }
    await suite.app.webhooks.drain();
    expect((await config(victim.guildId))?.repoEvent).toBeNull();
    expect((await suite.app.hooks.forGuild(victim.guildId))?.lastDeliveryAt).toBeNull();
  });

  it("a forged push through the forger's own hook records no push on the other guild's config and serves it only what GitHub holds", async () => {
    github.createRepo('victim/shared', { files: promptRepoFiles('S0') });
    const victim = await configure('victim/shared');
    const attacker = await withHook('victim/shared');
    await suite.app.engine.resolver.resolve(victim, ctx);
    const before = await config(victim);
    const sha = github.push('victim/shared', 'main', promptRepoFiles('S1'));

    const res = await postWebhook(suite.app.url, { event: 'push', path: attacker.path, secret: attacker.secret, body: pushPayload('victim/shared', { after: sha }) });
    expect(res.status).toBe(202);
    await suite.app.webhooks.drain();
    expect((await config(attacker.guildId))?.lastPushAt?.getTime()).toBe(clock.now());
    const after = await config(victim);
    expect(after?.lastPushAt).toBeNull();
    // The two configs read one shared snapshot: the refresh the forger's own hook caused fetched what
    // GitHub really holds, nothing the forger wrote, and the victim's status says so truthfully.
    expect(before?.lastSyncCommit).not.toBe(sha);
    expect(after?.lastSyncCommit).toBe(sha);
    expect((await suite.app.engine.resolver.resolve(victim, ctx)).commit).toBe(sha);

    // Naming a repository the hook's config does not read changes nothing at all.
    github.createRepo('victim/other', { files: promptRepoFiles('X0') });
    const otherVictim = await configure('victim/other');
    github.resetStats();
    const elsewhere = await postWebhook(suite.app.url, {
      event: 'push',
      path: attacker.path,
      secret: attacker.secret,
      body: pushPayload('victim/other', { after: github.push('victim/other', 'main', promptRepoFiles('X1')) }),
    });
    expect(elsewhere).toMatchObject({ status: 200, body: { status: 'ignored', reason: "this webhook's config does not use victim/other@main" } });
    await suite.app.webhooks.drain();
    expect(github.count()).toBe(0);
    expect((await config(otherVictim))?.lastPushAt).toBeNull();
  });

  it('unknown ids, malformed ids and bad signatures all get the same 401, before any JSON is read', async () => {
    github.createRepo('acme/probe', { files: promptRepoFiles('P') });
    const hook = await withHook('acme/probe');
    const body = JSON.stringify(pushPayload('acme/probe', { after: 'b'.repeat(40) }));
    const answers = [
      await postWebhook(suite.app.url, { event: 'push', path: `${CONFIG_WEBHOOK_PREFIX}${'A'.repeat(22)}`, secret: hook.secret, body }),
      await postWebhook(suite.app.url, { event: 'push', path: `${CONFIG_WEBHOOK_PREFIX}not-an-id`, secret: hook.secret, body }),
      await postWebhook(suite.app.url, { event: 'push', path: `${CONFIG_WEBHOOK_PREFIX}${hook.hookId}/x`, secret: hook.secret, body }),
      await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: WEBHOOK_SECRET, body }),
      await postWebhook(suite.app.url, { event: 'push', path: hook.path, signature: null, body }),
      // Not JSON, and unsigned: refused as unsigned, not as bad JSON.
      await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: 'wrong', body: '{not json' }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'unknown webhook, or missing or invalid X-Hub-Signature-256' });
      expect(await row(res.delivery)).toBeUndefined();
    }
    expect((await suite.app.hooks.forGuild(hook.guildId))?.lastDeliveryAt).toBeNull();

    // The body cap holds before any look-up.
    const oversized = await postWebhook(suite.app.url, { event: 'push', path: `${CONFIG_WEBHOOK_PREFIX}${'B'.repeat(22)}`, body: JSON.stringify({ zen: 'x'.repeat(1024 * 1024) }) });
    expect(oversized.status).toBe(413);
  });

  it('a forged ping marks only the verified config as webhook-backed; the shared snapshot keeps the short TTL', async () => {
    github.createRepo('victim/ttl', { files: promptRepoFiles('T') });
    const victim = await configure('victim/ttl');
    const attacker = await withHook('victim/ttl');
    await suite.app.engine.resolver.resolve(victim, ctx);

    const ping = await postWebhook(suite.app.url, { event: 'ping', path: attacker.path, secret: attacker.secret, body: { ...pingPayload(), repository: { full_name: 'victim/ttl' } } });
    expect(ping).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await suite.app.hooks.forGuild(attacker.guildId))?.verifiedAt?.getTime()).toBe(clock.now());
    // A ping from another repository verifies nothing.
    const other = await withHook('victim/ttl');
    const wrongRepo = await postWebhook(suite.app.url, { event: 'ping', path: other.path, secret: other.secret, body: { ...pingPayload(), repository: { full_name: 'someone/else' } } });
    expect(wrongRepo.body.note).toMatch(/this webhook's config reads victim\/ttl/);
    expect((await suite.app.hooks.forGuild(other.guildId))?.verifiedAt).toBeNull();

    // 16 minutes later the victim's snapshot is past the 15-minute TTL: the ping stretched nothing.
    clock.advance(16 * MINUTE);
    // Served, but no longer fresh: `cached`.
    expect(await suite.app.engine.status(victim)).toMatchObject({ level: 'cached', lastError: null, denied: null });
    // A restart does not read it as backing either.
    expect((await recentWebhookRepos(database().handle.db, new Date(clock.now() - 60 * MINUTE))).map((r) => `${r.owner}/${r.repo}`)).not.toContain('victim/ttl');
  });

  it('rotating a secret stops the old one at once, also in a process that had it cached', async () => {
    github.createRepo('acme/rotate', { files: promptRepoFiles('R0') });
    const hook = await withHook('acme/rotate');
    const other = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock });
    try {
      const first = github.push('acme/rotate', 'main', promptRepoFiles('R1'));
      const warm = await postWebhook(other.url, { event: 'push', path: hook.path, secret: hook.secret, body: pushPayload('acme/rotate', { after: first }) });
      expect(warm.status).toBe(202);
      await other.webhooks.drain();

      const rotated = await suite.app.hooks.issue(hook.guildId, 'admin', new Date(clock.now()));
      expect(rotated).toMatchObject({ hookId: hook.hookId, rotated: true });
      const second = github.push('acme/rotate', 'main', promptRepoFiles('R2'));
      const stale = await postWebhook(other.url, { event: 'push', path: hook.path, secret: hook.secret, body: pushPayload('acme/rotate', { after: second }) });
      expect(stale.status).toBe(401);
      expect(await row(stale.delivery)).toBeUndefined();
      const fresh = await postWebhook(other.url, { event: 'push', path: hook.path, secret: rotated.secret.reveal(), body: pushPayload('acme/rotate', { after: second }) });
      expect(fresh.status).toBe(202);
      await other.webhooks.drain();
      expect((await config(hook.guildId))?.lastSyncCommit).toBe(second);

      // Removed: the URL answers like any unknown one.
      expect(await suite.app.hooks.remove(hook.guildId)).toBe(true);
      const removed = await postWebhook(other.url, { event: 'push', path: hook.path, secret: rotated.secret.reveal(), body: pushPayload('acme/rotate', { after: second }) });
      expect(removed.status).toBe(401);
      expect(await suite.app.vault.metadata(hook.guildId, 'webhook-secret')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('a push whose head is already held, or an old push replayed under a new delivery id, is a no-op', async () => {
    github.createRepo('acme/replays', { files: promptRepoFiles('A') });
    const hook = await withHook('acme/replays');
    const a = (await suite.app.engine.resolver.resolve(hook.guildId, ctx)).commit as string;
    const b = github.push('acme/replays', 'main', promptRepoFiles('B'));
    const first = pushPayload('acme/replays', { before: a, after: b });
    expect((await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: hook.secret, body: first })).status).toBe(202);
    await suite.app.webhooks.drain();
    const c = github.push('acme/replays', 'main', promptRepoFiles('C'));
    expect((await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: hook.secret, body: pushPayload('acme/replays', { before: b, after: c }) })).status).toBe(202);
    await suite.app.webhooks.drain();
    await suite.app.engine.settle();
    const synced = await config(hook.guildId);
    expect(synced?.lastSyncCommit).toBe(c);
    github.resetStats();

    // The attack: the old bodies again, under new delivery ids, many times.
    const replays = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: hook.secret, body: i % 2 === 0 ? first : pushPayload('acme/replays', { before: b, after: c }) })),
    );
    await suite.app.webhooks.drain();
    for (const res of replays) {
      expect(res.status).toBe(202);
      expect((await row(res.delivery))?.result).toMatch(/^ignored: acme\/replays@main (already at|is past)/);
    }
    expect(github.count()).toBe(0);
    const after = await config(hook.guildId);
    expect(after?.lastSyncCommit).toBe(c);
    expect(after?.lastPushAt).toEqual(synced?.lastPushAt);
    expect(after?.lastSyncAt).toEqual(synced?.lastSyncAt);

    // A push that continues from the held head is news, even one that moves the branch back to B.
    github.push('acme/replays', 'main', promptRepoFiles('B'));
    const back = await postWebhook(suite.app.url, { event: 'push', path: hook.path, secret: hook.secret, body: pushPayload('acme/replays', { before: c, after: b }) });
    await suite.app.webhooks.drain();
    expect((await row(back.delivery))?.result).toMatch(/^push to acme\/replays@main/);
    expect(github.count('tarball')).toBe(1);
  });

  it('refreshes caused by deliveries are limited per repository; the newest push still goes live', async () => {
    const limited = await startWebhookApp(database().handle, { apiUrl: server.baseUrl, clock, webhook: { refreshIntervalMs: 3_000 } });
    try {
      github.createRepo('acme/flood', { files: promptRepoFiles('F0') });
      const guildId = await configure('acme/flood', limited);
      const issued = await limited.hooks.issue(guildId, 'admin', new Date(clock.now()));
      const path = `${CONFIG_WEBHOOK_PREFIX}${issued.hookId}`;
      await limited.engine.resolver.resolve(guildId, ctx);
      github.resetStats();

      // Twelve genuinely new heads, each delivered at once: twelve refreshes without the limit.
      const heads: string[] = [];
      for (let i = 1; i <= 12; i += 1) heads.push(github.push('acme/flood', 'main', promptRepoFiles(`F${i}`)));
      const results = await Promise.all(
        heads.map((after) => postWebhook(limited.url, { event: 'push', path, secret: issued.secret.reveal(), body: pushPayload('acme/flood', { after }) })),
      );
      expect(results.map((r) => r.status)).toEqual(heads.map(() => 202));
      await limited.webhooks.drain();
      await limited.engine.settle();

      const rows = await Promise.all(results.map((r) => limited.webhooks.store.get(r.delivery)));
      expect(rows.every((r) => r?.status === 'done')).toBe(true);
      expect(rows.filter((r) => r?.result?.includes('merged into the refresh already scheduled')).length).toBeGreaterThan(0);
      // One refresh at once and one trailing refresh for the rest (a refresh may ask twice when the head moved under it).
      expect(github.count('tarball')).toBeLessThanOrEqual(3);
      expect((await limited.engine.resolver.resolve(guildId, ctx)).commit).toBe(heads.at(-1));
      expect((await limited.engine.status(guildId)).config?.lastSyncCommit).toBe(heads.at(-1));
    } finally {
      await limited.close();
    }
  });

  it("the operator's webhook still applies to every config of the repository", async () => {
    github.createRepo('org/owned', { files: promptRepoFiles('O0') });
    const one = await withHook('org/owned');
    const two = await configure('org/owned');
    const sha = github.push('org/owned', 'main', promptRepoFiles('O1'));
    const res = await postWebhook(suite.app.url, { event: 'push', body: pushPayload('org/owned', { after: sha }) });
    expect(res.status).toBe(202);
    await suite.app.webhooks.drain();
    for (const guild of [one.guildId, two]) expect((await config(guild))?.lastSyncCommit).toBe(sha);
  });
});

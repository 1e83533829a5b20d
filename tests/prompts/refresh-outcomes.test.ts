/**
 * What a refresh reports and records must be what happened: GitHub's
 * failures, its authoritative denials (404, 401, 403, per credential), an
 * invalid newest commit that survives restarts, sync records written by
 * every refresh path, and a refresh budget long enough for a slow repository.
 * Real engine, real databases, the GitHub emulator's real faults, and a
 * manual clock for "8 days later".
 */
import { expect, it } from 'vitest';
import type { InvalidationEvent } from '../../src/invalidation/events.ts';
import type { PushGroup } from '../../src/prompts/engine.ts';
import { PromptConfigStore } from '../../src/prompts/prompt-config-store.ts';
import { statusEmbed } from '../../src/discord/prompt-config/status-report.ts';
import { ConfigHookStore } from '../../src/webhooks/config-hooks.ts';
import { createDeliveryProcessor } from '../../src/webhooks/processor.ts';
import { commitReplacedInPush } from '../../src/webhooks/push-history.ts';
import { RefreshLimiter } from '../../src/webhooks/refresh-limiter.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { configureGuild, promptRepoFiles, useRestartableEngine } from './engine-helpers.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BROKEN_PATH = 'version: v1\nroutes:\n  a: "x.md"\n  a: "y.md"\n';
const TOKEN_A = `ghp_${'TokenA0'.repeat(5)}1`;
const REVOKED = `ghp_${'Revoked'.repeat(5)}1`;

describeEachDatabase('refresh outcomes', (database) => {
  const suite = useRestartableEngine(database, '2026-11-01T10:00:00Z', { PROMPT_REFRESH_BUDGET: '5s' });
  const { server, restart } = suite;
  const { clock, github } = server;
  let guildSeq = 0;

  async function configure(repo: string, opts: { token?: string } = {}): Promise<string> {
    const guildId = `r${++guildSeq}`;
    if (opts.token !== undefined) await suite.under.vault.put(guildId, 'github-token', opts.token, 'admin');
    const report = await configureGuild(suite.engine, guildId, repo, { branch: 'main' });
    expect(report.ok).toBe(true);
    return guildId;
  }

  async function sync(guildId: string): Promise<{ status: string | null; errors: string[] }> {
    // As recorded in the database, whichever process wrote it.
    const config = await new PromptConfigStore(database().handle.db).get(guildId);
    return { status: config?.lastSyncStatus ?? null, errors: config?.lastSyncErrors ?? [] };
  }

  const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

  /** The webhook processor over the suite's engine, as the app wires it (no refresh interval). */
  const pushProcessor = () =>
    createDeliveryProcessor({
      engine: suite.engine,
      clock,
      hooks: new ConfigHookStore(database().handle.db, suite.under.vault),
      limiter: new RefreshLimiter<PushGroup>(clock, { intervalMs: 0, maxRepos: 100 }),
      replacedInPush: (push) => commitReplacedInPush(database().handle.db, push),
    });

  it('refresh during a 503 says GitHub answered 503 and which cached copy still serves, and records the sync as failed', async () => {
    await restart();
    const sha = github.createRepo('acme/outage', { files: promptRepoFiles('OUTAGE') })!;
    const guild = await configure('acme/outage');
    clock.advance(2 * HOUR);
    github.fault({ route: 'commit', kind: 'status', status: 503 });
    const report = await suite.engine.refresh(guild);
    expect(report?.ok).toBe(false);
    expect(report?.outcome).toEqual({
      kind: 'failed',
      reason: 'server',
      status: 503,
      message: expect.stringMatching(/503/),
      serving: { commit: sha, ageMs: 2 * HOUR },
      expired: null,
    });
    expect(report?.summary).toBe(`GitHub answered 503; still serving acme/outage@${sha.slice(0, 7)} from a cached copy 2 h old.`);
    expect(await sync(guild)).toEqual({ status: 'failed', errors: [report?.summary, expect.stringMatching(/503/)] });
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    expect(r.content).toContain('OUTAGE');
  });

  it('a GitHub that does not answer is a failure, not a denial: the cached copy keeps serving and the reply says GitHub did not answer', async () => {
    await restart({ PROMPT_REFRESH_BUDGET: '2s' });
    const sha = github.createRepo('acme/hung', { files: promptRepoFiles('HUNG') })!;
    const guild = await configure('acme/hung');
    clock.advance(30 * MINUTE);
    github.fault({ route: 'commit', repo: 'acme/hung', kind: 'hang' });
    const report = await suite.engine.refresh(guild);
    expect(report?.outcome).toMatchObject({ kind: 'failed', reason: 'timeout', status: null, serving: { commit: sha, ageMs: 30 * MINUTE } });
    expect(report?.summary).toBe(`GitHub did not answer in time; still serving acme/hung@${sha.slice(0, 7)} from a cached copy 30 min old.`);
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    expect(r.content).toContain('HUNG');
  });

  it('8 days later, with GitHub failing, the copy is past max-stale: refresh says so and the bundled prompts serve', async () => {
    await restart();
    const sha = github.createRepo('acme/old', { files: promptRepoFiles('OLD') })!;
    const guild = await configure('acme/old');
    clock.advance(8 * DAY);
    github.fault({ route: 'commit', kind: 'status', status: 503 });
    expect((await suite.engine.resolver.resolve(guild, ctx)).level).toBe('default');
    clock.advance(MINUTE); // past the failure back-off, though an explicit refresh ignores it anyway
    const report = await suite.engine.refresh(guild);
    expect(report?.ok).toBe(false);
    expect(report?.outcome).toMatchObject({ kind: 'failed', status: 503, serving: null, expired: { commit: sha } });
    expect(report?.summary).toBe(
      `GitHub answered 503; the cached copy acme/old@${sha.slice(0, 7)} is 8 days old, past the maximum age, so the bundled prompts serve.`,
    );
    expect((await sync(guild)).status).toBe('failed');
    expect((await suite.engine.status(guild)).level).toBe('default');
  });

  it('a deleted repository: refresh reports the 404, the bundled prompts serve with the reason, and access coming back serves it again', async () => {
    await restart();
    const sha = github.createRepo('acme/gone', { files: promptRepoFiles('GONE') })!;
    const guild = await configure('acme/gone');
    github.setPrivate('acme/gone', true);
    const report = await suite.engine.refresh(guild);
    expect(report?.ok).toBe(false);
    expect(report?.outcome).toMatchObject({ kind: 'denied', status: 404, kept: { commit: sha } });
    expect(report?.summary).toMatch(
      new RegExp(`^GitHub answered 404 for acme/gone: the repository or branch is gone, or these credentials cannot see it\\. If it is private, add a token with read access\\. The bundled prompts serve instead\\. The last snapshot \\(${sha.slice(0, 7)}\\) is kept`),
    );
    expect(report?.files).toEqual([]);
    expect((await sync(guild)).status).toBe('denied');
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('default');
    expect(r.reasons[0]?.reason).toMatch(/GitHub has answered 404 since/);

    // The denial is stored: a restart does not serve the snapshot again.
    await restart();
    expect((await suite.engine.resolver.resolve(guild, ctx)).level).toBe('default');
    expect((await suite.engine.status(guild)).denied).toMatchObject({ status: 404 });

    // Access returns: a member's request has the denied snapshot rechecked in the background;
    // it is confirmed with its ETag and nothing is downloaded.
    github.setPrivate('acme/gone', false);
    github.resetStats();
    expect((await suite.engine.resolver.resolve(guild, ctx)).level).toBe('default');
    await suite.engine.settle();
    expect(github.count('commit', 304)).toBe(1);
    expect(github.count('tarball')).toBe(0);
    expect(await sync(guild)).toEqual({ status: 'ok', errors: [] });
    expect((await suite.engine.refresh(guild))?.outcome).toEqual({ kind: 'unchanged', commit: sha });
    const served = await suite.engine.resolver.resolve(guild, ctx);
    expect(served.level).toBe('custom');
    expect(served.content).toContain('GONE');
    expect((await suite.engine.status(guild)).denied).toBeNull();
  });

  it('a second guild cannot set a repository that answers 404, and every guild reading it anonymously stops being served', async () => {
    await restart();
    github.createRepo('acme/shared', { files: promptRepoFiles('SHARED') });
    const first = await configure('acme/shared');
    expect((await suite.engine.resolver.resolve(first, ctx)).level).toBe('custom');
    github.deleteRepo('acme/shared');
    const second = await suite.engine.inspect({ guildId: `r${++guildSeq}`, repoUrl: 'acme/shared', branch: 'main' });
    expect(second.ok).toBe(true);
    if (!second.ok) return;
    expect(second.report.ok).toBe(false);
    expect(second.report.outcome).toMatchObject({ kind: 'denied', status: 404 });
    expect(second.report.commit).toBeNull();
    expect(second.report.files).toEqual([]);
    const r = await suite.engine.resolver.resolve(first, ctx);
    expect(r.level).toBe('default');
    expect(r.content).not.toContain('SHARED');
    // The first guild's sync record says so too, though it ran no command.
    expect((await sync(first)).status).toBe('denied');
  });

  it('denials are per credential: a revoked token (401) hides the repo from its guild only; a repo turned private hides it from anonymous readers only', async () => {
    await restart();
    const sha = github.createRepo('acme/scoped', { files: promptRepoFiles('SCOPED'), tokens: [TOKEN_A] })!;
    const withToken = await configure('acme/scoped', { token: TOKEN_A });
    const anonymous = await configure('acme/scoped');
    const alsoAnonymous = await configure('acme/scoped');

    await suite.under.vault.put(withToken, 'github-token', REVOKED, 'admin');
    const revoked = await suite.engine.refresh(withToken);
    expect(revoked?.outcome).toMatchObject({ kind: 'denied', status: 401 });
    expect(revoked?.summary).toMatch(/^GitHub answered 401 for acme\/scoped: the credentials are invalid, expired or revoked\./);
    expect((await suite.engine.resolver.resolve(withToken, ctx)).level).toBe('default');
    expect((await suite.engine.resolver.resolve(anonymous, ctx)).level).toBe('custom');
    expect((await suite.engine.refresh(anonymous))?.outcome).toEqual({ kind: 'unchanged', commit: sha });

    await suite.under.vault.put(withToken, 'github-token', TOKEN_A, 'admin');
    github.setPrivate('acme/scoped', true, [TOKEN_A]);
    expect((await suite.engine.refresh(withToken))?.outcome).toEqual({ kind: 'unchanged', commit: sha });
    expect((await suite.engine.refresh(anonymous))?.outcome).toMatchObject({ kind: 'denied', status: 404 });
    expect((await suite.engine.resolver.resolve(withToken, ctx)).level).toBe('custom');
    const other = await suite.engine.resolver.resolve(alsoAnonymous, ctx);
    expect(other.level).toBe('default');
    expect(other.reasons[0]?.reason).toMatch(/404/);
  });

  it('403 is authoritative too: the snapshot is not served and the reason names it', async () => {
    await restart();
    github.createRepo('acme/blocked', { files: promptRepoFiles('BLOCKED') });
    const guild = await configure('acme/blocked');
    github.fault({ route: 'commit', repo: 'acme/blocked', kind: 'status', status: 403, message: 'Resource protected by organization SAML enforcement.' });
    const report = await suite.engine.refresh(guild);
    expect(report?.outcome).toMatchObject({ kind: 'denied', status: 403 });
    expect(report?.summary).toMatch(/^GitHub answered 403 for acme\/blocked: these credentials may not read it\./);
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('default');
    expect(r.reasons[0]?.reason).toMatch(/403/);
  });

  it('an invalid commit survives a restart with its file:line problems and its own ETag; a force-push back to the good commit clears it', async () => {
    await restart();
    const good = github.createRepo('acme/flip', { files: promptRepoFiles('GOOD') })!;
    const guild = await configure('acme/flip');
    const db = database().handle.db;
    const goodRow = await db.selectFrom('prompt_snapshots').select(['etag', 'commit_sha', 'cache_key']).where('owner', '=', 'acme').where('repo', '=', 'flip').executeTakeFirstOrThrow();
    expect(goodRow.etag).toMatch(/^(W\/)?"/);

    const bad = github.push('acme/flip', 'main', { PATH: BROKEN_PATH });
    const report = await suite.engine.refresh(guild);
    expect(report?.outcome).toMatchObject({ kind: 'invalid', commit: bad, serving: { commit: good } });
    expect(report?.summary).toMatch(new RegExp(`^Commit ${bad.slice(0, 7)} is invalid: PATH:4:\\d+: .+; still serving the last valid commit ${good.slice(0, 7)}\\.$`));
    expect(await sync(guild)).toEqual({ status: 'invalid', errors: [report?.summary, expect.stringMatching(/^PATH:4:\d+: /)] });

    // The good row keeps its own commit and ETag; the bad head is stored apart, with its own.
    const after = await db.selectFrom('prompt_snapshots').select(['etag', 'commit_sha']).where('cache_key', '=', goodRow.cache_key).executeTakeFirstOrThrow();
    expect(after).toEqual({ etag: goodRow.etag, commit_sha: good });
    const invalid = await db.selectFrom('prompt_invalid_heads').selectAll().where('cache_key', '=', goodRow.cache_key).executeTakeFirstOrThrow();
    expect(invalid.commit_sha).toBe(bad);
    expect(invalid.etag).not.toBe(goodRow.etag);

    await restart();
    const status = await suite.engine.status(guild);
    expect(status.invalidHead?.commit).toBe(bad);
    expect(status.invalidHead?.problems[0]).toMatchObject({ file: 'PATH', line: 4 });
    expect(status.level).toBe('cached');

    // Checking again costs a 304 on the bad head's ETag, and the bad commit is still reported.
    github.resetStats();
    clock.advance(16 * MINUTE);
    const again = await suite.engine.refresh(guild);
    expect(again?.outcome).toMatchObject({ kind: 'invalid', commit: bad });
    expect(github.count('commit', 304)).toBe(1);
    expect(github.count('tarball')).toBe(0);
    const stale = await suite.engine.resolver.resolve(guild, ctx);
    expect(stale.level).toBe('cached');
    expect(stale.content).toContain('GOOD');

    github.forcePush('acme/flip', 'main', good);
    const recovered = await suite.engine.refresh(guild);
    expect(recovered?.ok).toBe(true);
    expect(recovered?.outcome).toEqual({ kind: 'changed', commit: good, previous: bad });
    expect(await sync(guild)).toEqual({ status: 'ok', errors: [] });
    expect(await db.selectFrom('prompt_invalid_heads').selectAll().where('cache_key', '=', goodRow.cache_key).execute()).toEqual([]);

    await restart();
    expect((await suite.engine.status(guild)).invalidHead).toBeNull();
    expect((await suite.engine.resolver.resolve(guild, ctx)).level).toBe('custom');
  });

  it('status shows current truth: a background refresh after the TTL clears the errors a failed refresh recorded', async () => {
    await restart();
    github.createRepo('acme/heal', { files: promptRepoFiles('HEAL') });
    const guild = await configure('acme/heal');
    clock.advance(16 * MINUTE);
    github.fault({ route: 'commit', kind: 'status', status: 502 });
    await suite.engine.refresh(guild);
    expect((await sync(guild)).status).toBe('failed');
    expect((await suite.engine.status(guild)).lastError).toMatch(/502/);
    github.clearFaults();
    clock.advance(MINUTE);
    // A member's request finds the snapshot stale and refreshes it in the background.
    expect((await suite.engine.resolver.resolve(guild, ctx)).level).toBe('cached');
    await suite.engine.settle();
    expect(await sync(guild)).toEqual({ status: 'ok', errors: [] });
    const status = await suite.engine.status(guild);
    expect(status.lastError).toBeNull();
    expect(status.level).toBe('custom');
  });

  it('a webhook push records what its refresh did on every guild it serves', async () => {
    const published: InvalidationEvent[] = [];
    await restart({}, { announce: async (event) => void published.push(event) });
    github.createRepo('acme/hooked', { files: promptRepoFiles('HOOKED') });
    const one = await configure('acme/hooked');
    const two = await configure('acme/hooked');
    const process = pushProcessor();

    const bad = github.push('acme/hooked', 'main', { PATH: BROKEN_PATH });
    const result = await process({ kind: 'push', owner: 'acme', repo: 'hooked', ref: 'refs/heads/main', after: bad, deleted: false });
    expect(result).toMatch(new RegExp(`failed: Commit ${bad.slice(0, 7)} is invalid: PATH:4`));
    for (const guild of [one, two]) expect((await sync(guild)).status).toBe('invalid');

    const fixed = github.push('acme/hooked', 'main', promptRepoFiles('FIXED'));
    const ok = await process({ kind: 'push', owner: 'acme', repo: 'hooked', ref: 'refs/heads/main', after: fixed, deleted: false });
    expect(ok).toContain(`at ${fixed.slice(0, 7)}`);
    for (const guild of [one, two]) expect(await sync(guild)).toEqual({ status: 'ok', errors: [] });
    expect(published.map((e) => e.kind)).toEqual(['repo', 'repo']);
  });

  it('status lists the same sync problems after a push as after a refresh, in any process', async () => {
    await restart();
    github.createRepo('acme/twice', { files: promptRepoFiles('TWICE') });
    const guild = await configure('acme/twice');
    const process = pushProcessor();
    const errorsShown = async (): Promise<string | undefined> => {
      return statusEmbed(await suite.engine.status(guild), undefined).fields?.find((f) => f.name.startsWith('Errors'))?.value;
    };

    const bad = github.push('acme/twice', 'main', { PATH: BROKEN_PATH });
    await process({ kind: 'push', owner: 'acme', repo: 'twice', ref: 'refs/heads/main', after: bad, deleted: false });
    const afterPush = await errorsShown();
    expect(afterPush).toContain(`Commit ${bad.slice(0, 7)} is invalid: PATH:4:`);

    // Another process (a fresh engine over the same database) refreshes the same commit: a 304.
    await restart();
    clock.advance(16 * MINUTE);
    expect((await suite.engine.refresh(guild))?.outcome).toMatchObject({ kind: 'invalid', commit: bad });
    expect(await errorsShown()).toBe(afterPush);
  });

  it('a slow repository: a member waits at most the resolve budget, while set, refresh and the background load it within the refresh budget', async () => {
    await restart({ GITHUB_REQUEST_TIMEOUT_MS: '5000', GITHUB_REFRESH_BUDGET_MS: '600', PROMPT_REFRESH_BUDGET: '10s' });
    github.createRepo('acme/slow', { files: promptRepoFiles('SLOW') });
    github.createRepo('acme/slow-cold', { files: promptRepoFiles('COLD') });
    github.fault({ kind: 'latency', ms: 1_500, route: 'download' });

    // `set`: the download alone takes longer than a member's whole budget.
    const inspected = await suite.engine.inspect({ guildId: `r${++guildSeq}`, repoUrl: 'acme/slow', branch: 'main' });
    expect(inspected.ok && inspected.report.ok).toBe(true);

    // A member's first request for a repo nobody fetched yet falls back, and the fetch goes on.
    const guild = `r${++guildSeq}`;
    await suite.engine.saveConfig({
      guildId: guild,
      repoUrl: 'https://github.com/acme/slow-cold',
      apiBaseUrl: server.baseUrl,
      owner: 'acme',
      repo: 'slow-cold',
      branch: 'main',
      actorId: 'admin',
    });
    const cold = await suite.engine.resolver.resolve(guild, ctx);
    expect(cold.level).toBe('default');
    expect(cold.reasons[0]?.reason).toMatch(/did not answer within 600 ms; acme\/slow-cold@main keeps loading in the background/);
    await suite.engine.settle();
    const warm = await suite.engine.resolver.resolve(guild, ctx);
    expect(warm.level).toBe('custom');
    expect(warm.content).toContain('COLD');
    expect((await sync(guild)).status).toBe('ok');

    // `refresh` of a new slow commit.
    const pushed = github.push('acme/slow-cold', 'main', promptRepoFiles('COLDER'));
    const refreshed = await suite.engine.refresh(guild);
    expect(refreshed?.outcome).toMatchObject({ kind: 'changed', commit: pushed });
  });
});

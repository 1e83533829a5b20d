import { expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.ts';
import { configureGuild, promptRepoFiles, useRestartableEngine } from './engine-helpers.ts';

const MINUTE = 60_000;

describeEachDatabase('prompt engine', (database) => {
  const suite = useRestartableEngine(database, '2026-11-01T10:00:00Z');
  const { server, restart } = suite;
  const { clock, github } = server;
  let guildSeq = 0;

  async function configure(repo: string, opts: { branch?: string; token?: string } = {}): Promise<string> {
    const guildId = `g${++guildSeq}`;
    if (opts.token !== undefined) await suite.under.vault.put(guildId, 'github-token', opts.token, 'admin');
    await configureGuild(suite.engine, guildId, repo, opts.branch ? { branch: opts.branch } : {});
    return guildId;
  }

  const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

  it('level custom: a fresh snapshot of the guild repo, with path, commit and tried paths', async () => {
    await restart();
    const sha = github.createRepo('acme/prompts', { files: promptRepoFiles('ACME') });
    const guild = await configure('acme/prompts');
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('custom');
    expect(r.repo).toBe('acme/prompts');
    expect(r.commit).toBe(sha);
    expect(r.path).toBe('prompts/discussion/default.md');
    expect(r.tried).toEqual(['prompts/discussion/general.md', 'prompts/discussion/default.md']);
    expect(r.content).toContain('ACME: summarize #general as a brief summary for general readers.');
    expect(r.content).not.toContain('{messages}');
    expect(r.reasons).toEqual([]);
  });

  it('level default: no repo configured, with the reason', async () => {
    await restart();
    const r = await suite.engine.resolver.resolve('unconfigured-guild', { ...ctx, category: 'meeting' });
    expect(r.level).toBe('default');
    expect(r.repo).toBe('bundled');
    expect(r.path).toMatch(/^summaries\/meeting\//);
    expect(r.reasons[0]).toEqual({ level: 'custom', reason: 'this guild has no prompt repository configured' });
  });

  it('level default: the guild repo routes nowhere for this context', async () => {
    await restart();
    github.createRepo('acme/narrow', { files: promptRepoFiles('NARROW') });
    const guild = await configure('acme/narrow');
    const r = await suite.engine.resolver.resolve(guild, { ...ctx, category: 'moderation' });
    expect(r.level).toBe('default');
    expect(r.tried.slice(0, 2)).toEqual(['prompts/moderation/general.md', 'prompts/moderation/default.md']);
    expect(r.reasons.find((x) => x.level === 'custom')?.reason).toMatch(/none of the routed files exists/);
  });

  it('level fallback: no usable repo and no bundled prompts', async () => {
    await restart({}, { bundled: null });
    const r = await suite.engine.resolver.resolve(undefined, ctx);
    expect(r.level).toBe('fallback');
    expect(r.path).toBeNull();
    expect(r.content).toMatch(/You are Recap/);
    expect(r.reasons.map((x) => x.level)).toEqual(['custom', 'cached', 'default']);
  });

  it('reuses the ETag: after the TTL one conditional request answers 304 and nothing is downloaded', async () => {
    await restart();
    github.createRepo('acme/etag', { files: promptRepoFiles('ETAG') });
    const guild = await configure('acme/etag');
    github.resetStats();
    clock.advance(16 * MINUTE);
    const stale = await suite.engine.resolver.resolve(guild, ctx);
    expect(stale.level).toBe('cached');
    expect(stale.reasons[0]?.reason).toMatch(/older than the cache TTL/);
    await suite.engine.settle();
    expect(github.count('commit', 304)).toBe(1);
    expect(github.count('tarball')).toBe(0);
    const fresh = await suite.engine.resolver.resolve(guild, ctx);
    expect(fresh.level).toBe('custom');
  });

  it('level cached: GitHub is down after the TTL, the old snapshot is served with its age', async () => {
    await restart();
    github.createRepo('acme/outage', { files: promptRepoFiles('OUTAGE') });
    const guild = await configure('acme/outage');
    github.fault({ route: 'commit', kind: 'status', status: 503 });
    clock.advance(20 * MINUTE);
    await suite.engine.resolver.resolve(guild, ctx);
    await suite.engine.settle();
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    expect(r.staleAgeMs).toBe(20 * MINUTE);
    expect(r.content).toContain('OUTAGE');
    expect(r.reasons[0]?.reason).toMatch(/last refresh failed|could not be reached/);
  });

  it('single-flight: 100 concurrent cold resolutions make one refresh', async () => {
    await restart();
    github.createRepo('acme/flight', { files: promptRepoFiles('FLIGHT') });
    const guild = await configure('acme/flight');
    // A new process: nothing in memory, and the stored snapshot is past max-stale.
    // A member's wait long enough that a loaded machine does not turn this into a timing test.
    await restart({ PROMPT_CACHE_TTL: '30s', PROMPT_MAX_STALE: '1m', GITHUB_REFRESH_BUDGET_MS: '10000' });
    clock.advance(2 * MINUTE);
    github.resetStats();
    github.fault({ route: 'commit', kind: 'latency', ms: 100 });
    const results = await Promise.all(Array.from({ length: 100 }, () => suite.engine.resolver.resolve(guild, ctx)));
    expect(new Set(results.map((r) => r.level))).toEqual(new Set(['custom']));
    expect(github.count('commit')).toBe(1);
  });

  it('never serves a snapshot fetched with one guild\'s token to another guild', async () => {
    await restart();
    github.createRepo('acme/private', { files: promptRepoFiles('PRIVATE'), private: true, tokens: ['ghp_privateToken000000000000000000000001'] });
    const owner = await configure('acme/private', { token: 'ghp_privateToken000000000000000000000001' });
    const mine = await suite.engine.resolver.resolve(owner, ctx);
    expect(mine.level).toBe('custom');
    expect(mine.content).toContain('PRIVATE');
    // Another guild names the same repo without a token: GitHub says 404, and the private snapshot is not shared.
    const otherId = `g${++guildSeq}`;
    const inspected = await suite.engine.inspect({ guildId: otherId, repoUrl: 'acme/private', branch: 'main' });
    expect(inspected.ok && inspected.report.ok).toBe(false);
    if (inspected.ok) await suite.engine.saveConfig({ ...inspected.config, actorId: 'x' });
    const theirs = await suite.engine.resolver.resolve(otherId, ctx);
    expect(theirs.level).toBe('default');
    expect(theirs.content).not.toContain('PRIVATE');
  });

  it('persists snapshots: after a restart during a GitHub outage the custom prompts are still served', async () => {
    await restart();
    github.createRepo('acme/persist', { files: promptRepoFiles('PERSIST') });
    const guild = await configure('acme/persist');
    await suite.engine.resolver.resolve(guild, ctx);
    await restart();
    github.fault({ route: 'commit', kind: 'status', status: 502 });
    github.fault({ route: 'tarball', kind: 'status', status: 502 });
    clock.advance(30 * MINUTE);
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    expect(r.content).toContain('PERSIST');
  });

  it('a deleted repo is not served: 404 is authoritative, the reason says so, and status says it is gone', async () => {
    await restart();
    github.createRepo('acme/doomed', { files: promptRepoFiles('DOOMED') });
    const guild = await configure('acme/doomed');
    github.deleteRepo('acme/doomed');
    clock.advance(20 * MINUTE);
    await suite.engine.resolver.resolve(guild, ctx);
    await suite.engine.settle();
    const denied = await suite.engine.resolver.resolve(guild, ctx);
    expect(denied.level).toBe('default');
    expect(denied.content).not.toContain('DOOMED');
    expect(denied.reasons[0]?.reason).toMatch(/acme\/doomed@main: GitHub has answered 404 since/);
    expect(denied.reasons[1]?.reason).toMatch(/kept in case access returns, but not served/);
    const status = await suite.engine.status(guild);
    expect(status.denied).toMatchObject({ status: 404 });
    expect(status.level).toBe('default');
    expect(status.lastError).toMatch(/no repository acme\/doomed/i);
  });

  it('a rate-limited credential is not called again until the limit resets', async () => {
    await restart();
    github.createRepo('acme/limited', { files: promptRepoFiles('LIMITED') });
    const guild = await configure('acme/limited');
    github.fault({ route: 'commit', kind: 'rate-limit', status: 403, resetInSeconds: 3600, times: 1 });
    clock.advance(16 * MINUTE);
    await suite.engine.refresh(guild);
    const calls = github.count('commit');
    // Past the failure backoff but inside the rate-limit window: no request leaves.
    clock.advance(5 * MINUTE);
    const report = await suite.engine.refresh(guild);
    // Not a success: the last good snapshot still serves, and the reply says why.
    expect(report?.ok).toBe(false);
    expect(report?.outcome).toMatchObject({ kind: 'failed', reason: 'rate-limited', serving: { commit: expect.any(String) } });
    expect(report?.summary).toMatch(/^GitHub's rate limit for these credentials is used up; still serving acme\/limited@[0-9a-f]{7} from a cached copy 21 min old\.$/);
    expect(github.count('commit')).toBe(calls);
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    clock.advance(60 * MINUTE);
    await suite.engine.refresh(guild);
    expect(github.count('commit')).toBe(calls + 1);
  });

  /** Another process announces a push to acme/broken (this one expires and reloads what it holds), then an admin refreshes. */
  async function announcedThenRefreshed(guild: string): Promise<void> {
    await suite.engine.applyRemote({ kind: 'repo', owner: 'acme', repo: 'broken' });
    await suite.engine.settle();
    await suite.engine.refresh(guild);
  }

  it('a push with a broken PATH keeps the last good snapshot and reports file and line; the next good push recovers', async () => {
    await restart();
    github.createRepo('acme/broken', { files: promptRepoFiles('GOOD') });
    const guild = await configure('acme/broken');
    github.push('acme/broken', 'main', { PATH: 'version: v1\nroutes:\n  a: "x.md"\n  a: "y.md"\n' });
    await announcedThenRefreshed(guild);
    const r = await suite.engine.resolver.resolve(guild, ctx);
    expect(r.level).toBe('cached');
    expect(r.content).toContain('GOOD');
    expect(r.reasons[0]?.reason).toMatch(/PATH:\d+:\d+/);
    const status = await suite.engine.status(guild);
    expect(status.invalidHead?.problems[0]).toMatchObject({ file: 'PATH', line: 4 });
    github.push('acme/broken', 'main', promptRepoFiles('FIXED'));
    await announcedThenRefreshed(guild);
    const fixed = await suite.engine.resolver.resolve(guild, ctx);
    expect(fixed.level).toBe('custom');
    expect(fixed.content).toContain('FIXED');
  });

  it('counts resolutions by level and GitHub requests by status', async () => {
    const text = await suite.under.registry.metrics();
    expect(text).toMatch(/recap_prompt_resolutions_total\{level="(custom|cached|default)"\} \d+/);
    expect(text).toMatch(/recap_github_requests_total\{status="(200|304)"\} \d+/);
    expect(text).toMatch(/recap_prompt_resolution_seconds_bucket/);
  });

  it('contacts no host but github.com unless the operator allows a GitHub Enterprise host', async () => {
    await restart();
    github.resetStats();
    for (const url of ['http://127.0.0.1:5432/owner/repo', 'http://169.254.169.254/owner/repo']) {
      const refused = await suite.engine.inspect({ guildId: 'ssrf', repoUrl: url, branch: 'main' });
      expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/github\.com only; .* is not allowed.*GITHUB_ENTERPRISE_HOSTS/) });
    }
    expect(github.count()).toBe(0);
    await restart({ GITHUB_ENTERPRISE_HOSTS: '127.0.0.1:9' });
    const allowed = await suite.engine.inspect({ guildId: 'ghe', repoUrl: 'http://127.0.0.1:9/owner/repo', branch: 'main' });
    expect(allowed.ok).toBe(true);
    if (allowed.ok) expect(allowed.config.apiBaseUrl).toBe('http://127.0.0.1:9/api/v3');
  });
});

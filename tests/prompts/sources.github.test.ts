import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/resilience/clock.ts';
import type { BreakerRegistry } from '../../src/prompts/sources/breaker-registry.ts';
import { createBreakerRegistry } from '../../src/prompts/sources/breaker-registry.ts';
import type { GitHubCredentials } from '../../src/prompts/sources/credentials.ts';
import { anonymousCredentials, tokenCredentials } from '../../src/prompts/sources/credentials.ts';
import { GitHubAppAuth } from '../../src/prompts/sources/github-app-auth.ts';
import type { GitHubSourceOptions } from '../../src/prompts/sources/github-source.ts';
import { GitHubSource } from '../../src/prompts/sources/github-source.ts';
import { InMemoryRateLimitGate } from '../../src/prompts/sources/rate-limit-gate.ts';
import type { FetchRequest } from '../../src/prompts/sources/source.ts';
import { defaultSourceLimits } from '../../src/prompts/sources/source.ts';
import { failure, snapshotOf } from './source-outcomes.ts';
import type { FileMap } from '../emulators/github/server.ts';
import { GitHubEmulator } from '../emulators/github/server.ts';

const files: FileMap = {
  PATH: 'version: v1\nroutes:\n  global_default: "prompts/default.md"\n',
  'prompts/default.md': 'Summarize {messages}.\n',
  'README.md': '# Prompts\n',
};

function manyFiles(count: number): FileMap {
  const map: FileMap = { PATH: files.PATH as string };
  for (let i = 0; i < count - 1; i += 1) map[`prompts/c${Math.floor(i / 100)}/p${i}.md`] = `Prompt number ${i}.\n`;
  return map;
}

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describe('GitHubSource against the GitHub emulator', () => {
  let clock: ManualClock;
  let github: GitHubEmulator;
  let baseUrl: string;
  let breakers: BreakerRegistry;
  let gate: InMemoryRateLimitGate;
  let counted: Array<[number | 'network' | 'timeout', string]>;

  const source = (overrides: Partial<GitHubSourceOptions> = {}, credentials: GitHubCredentials = anonymousCredentials()): GitHubSource =>
    new GitHubSource({
      owner: 'acme',
      repo: 'prompts',
      baseUrl,
      credentials,
      limits: defaultSourceLimits,
      gate,
      breakers,
      clock,
      // Generous: speed is the benchmarks' business; tests of the budget set their own.
      budgetMs: 10_000,
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      onRequest: (status, route) => counted.push([status, route]),
      ...overrides,
    });

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2025-06-01T12:00:00Z'));
    github = new GitHubEmulator({ clock });
    ({ baseUrl } = await github.start());
    breakers = createBreakerRegistry({ failureThreshold: 2, failureWindowMs: 60_000, coolDownMs: 30_000, clock });
    gate = new InMemoryRateLimitGate(clock);
    counted = [];
  });
  afterEach(async () => {
    await github.close();
  });

  describe('fetching and ETags', () => {
    it('reads a 1,000-file repository in three requests, then costs a single 304 while unchanged', async () => {
      const sha = github.createRepo('acme/prompts', { files: manyFiles(1_000) });
      const first = await source().fetch();
      const snapshot = snapshotOf(first);
      expect(snapshot.commit).toBe(sha);
      expect(snapshot.files.size).toBe(1_000);
      expect(text(snapshot.files.get('prompts/c3/p345.md'))).toBe('Prompt number 345.\n');
      expect(snapshot.skipped).toEqual([]);
      expect(first.etag).toMatch(/^"[0-9a-f]+"$/);
      expect(github.stats().byRoute).toEqual({ commit: { '200': 1 }, tarball: { '302': 1 }, download: { '200': 1 } });
      expect(counted).toEqual([
        [200, 'GET /repos/{owner}/{repo}/commits/{ref}'],
        [302, 'GET /repos/{owner}/{repo}/tarball/{ref}'],
        [200, 'GET download'],
      ]);

      github.resetStats();
      const second = await source().fetch({ known: { commit: snapshot.commit, etag: first.etag as string } });
      expect(second).toEqual({ kind: 'not-modified', commit: sha, etag: first.etag });
      expect(github.stats().byRoute).toEqual({ commit: { '304': 1 } });
    });

    it('downloads again after a push, in three requests', async () => {
      github.createRepo('acme/prompts', { files });
      const first = await source().fetch();
      const newSha = github.push('acme/prompts', 'main', { changes: { 'prompts/default.md': 'Changed.\n', 'README.md': null } });
      github.resetStats();
      const second = await source().fetch({ known: { commit: snapshotOf(first).commit, etag: first.etag as string } });
      const snapshot = snapshotOf(second);
      expect(snapshot.commit).toBe(newSha);
      expect(text(snapshot.files.get('prompts/default.md'))).toBe('Changed.\n');
      expect(snapshot.files.has('README.md')).toBe(false);
      expect(github.count()).toBe(3);
    });

    it('recognizes a known commit without an ETag and skips the download', async () => {
      const sha = github.createRepo('acme/prompts', { files }) as string;
      const outcome = await source().fetch({ known: { commit: sha } });
      expect(outcome.kind).toBe('not-modified');
      expect(github.stats().byRoute).toEqual({ commit: { '200': 1 } });
    });

    it('follows a named branch (with a slash) and pins the snapshot to its SHA', async () => {
      github.createRepo('acme/prompts', { files });
      const sha = github.push('acme/prompts', 'team/ops', { changes: { 'prompts/default.md': 'Ops.\n' } });
      github.push('acme/prompts', 'main', { changes: { 'prompts/default.md': 'Main moved on.\n' } });
      const snapshot = snapshotOf(await source({ ref: 'team/ops' }).fetch());
      expect(snapshot.commit).toBe(sha);
      expect(text(snapshot.files.get('prompts/default.md'))).toBe('Ops.\n');
    });

    it('works under a GitHub Enterprise style /api/v3 base URL', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      const snapshot = snapshotOf(await source({ baseUrl: `${baseUrl}/api/v3/` }).fetch());
      expect(snapshot.commit).toBe(sha);
    });
  });

  describe('not found and credentials', () => {
    it('fails with not-found for a missing repository after exactly one request', async () => {
      const error = await failure(source({ repo: 'missing' }).fetch());
      expect(error.kind).toBe('not-found');
      expect(error.message).toContain('acme/missing');
      expect(github.count()).toBe(1);
    });

    it('fails with not-found for a missing branch (GitHub answers 422), without retrying', async () => {
      github.createRepo('acme/prompts', { files });
      const error = await failure(source({ ref: 'nope' }).fetch());
      expect(error.kind).toBe('not-found');
      expect(error.message).toContain('"nope"');
      expect(github.count()).toBe(1);
    });

    it('reads a private repository only with its token, and never puts the token in messages', async () => {
      const sha = github.createRepo('acme/prompts', { files, private: true, tokens: ['ghp_secret_for_guild_1'] });
      github.addToken('ghp_valid_but_unrelated');

      const anonymous = await failure(source().fetch());
      expect(anonymous.kind).toBe('not-found');
      expect(anonymous.message).toMatch(/private.*token/);

      const unrelated = await failure(source({}, tokenCredentials('ghp_valid_but_unrelated', 'guild:2')).fetch());
      expect(unrelated.kind).toBe('not-found');

      const revoked = await failure(source({}, tokenCredentials('ghp_revoked', 'guild:3')).fetch());
      expect(revoked.kind).toBe('unauthorized');
      expect(revoked.message).not.toContain('ghp_revoked');

      const withToken = source({}, tokenCredentials('ghp_secret_for_guild_1', 'guild:1'));
      expect(withToken.scope).toBe('guild:1');
      expect(snapshotOf(await withToken.fetch()).commit).toBe(sha);
      expect(github.count()).toBe(6);
    });
  });

  describe('retries', () => {
    it('retries 5xx answers and succeeds', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'status', status: 503, times: 1 });
      github.fault({ route: 'download', kind: 'status', status: 502, times: 1 });
      expect(snapshotOf(await source().fetch()).commit).toBe(sha);
      expect(github.stats().byRoute).toEqual({ commit: { '503': 1, '200': 1 }, tarball: { '302': 1 }, download: { '502': 1, '200': 1 } });
    });

    it('retries a dropped connection', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'reset', times: 1 });
      expect(snapshotOf(await source().fetch()).commit).toBe(sha);
      expect(counted[0]).toEqual(['network', 'GET /repos/{owner}/{repo}/commits/{ref}']);
    });

    it('gives up after the configured number of retries', async () => {
      github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'status', status: 500 });
      const error = await failure(source({ maxRetries: 2 }).fetch());
      expect(error.kind).toBe('server');
      expect(error.status).toBe(500);
      expect(github.count('commit', 500)).toBe(3);
    });

    it('does not start a retry whose back-off would outlast the budget', async () => {
      github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'status', status: 500 });
      const error = await failure(source({ maxRetries: 5, budgetMs: 1_000, backoff: { baseDelayMs: 5_000, maxDelayMs: 5_000, random: () => 0.99 } }).fetch());
      expect(error.kind).toBe('server');
      expect(github.count('commit')).toBe(1);
    });
  });

  describe('timeouts', () => {
    it('fails with timeout when GitHub hangs past the refresh budget', async () => {
      github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'hang' });
      const error = await failure(source({ budgetMs: 200, requestTimeoutMs: 5_000 }).fetch());
      expect(error.kind).toBe('timeout');
      expect(error.message).toContain('200 ms budget');
      expect(github.count('commit', 'hang')).toBe(1);
    });

    it('retries a request that timed out on its own while budget remains', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      github.fault({ route: 'tarball', kind: 'hang', times: 1 });
      expect(snapshotOf(await source({ budgetMs: 10_000, requestTimeoutMs: 750 }).fetch()).commit).toBe(sha);
      expect(github.stats().byRoute.tarball).toEqual({ hang: 1, '302': 1 });
      expect(counted.filter(([status]) => status === 'timeout')).toHaveLength(1);
    });

    it('reports a caller abort as aborted', async () => {
      github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'hang' });
      const controller = new AbortController();
      const pending = source().fetch({ signal: controller.signal } satisfies FetchRequest);
      setTimeout(() => controller.abort(), 50);
      expect((await failure(pending)).kind).toBe('aborted');
    });
  });

  describe('rate limits', () => {
    it('honours retry-after: no request reaches GitHub until the injected clock passes it', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      github.fault({ route: 'commit', kind: 'rate-limit', status: 429, retryAfterSeconds: 60, times: 1 });
      const limited = await failure(source().fetch());
      expect(limited.kind).toBe('rate-limited');
      expect(limited.retryAt).toBe(clock.now() + 60_000);
      expect(github.count()).toBe(1);

      clock.advance(59_000);
      const still = await failure(source({ repo: 'other' }).fetch());
      expect(still.kind).toBe('rate-limited');
      expect(still.retryAt).toBe(limited.retryAt);
      expect(github.count()).toBe(1);

      clock.advance(2_000);
      expect(snapshotOf(await source().fetch()).commit).toBe(sha);
    });

    it('honours a primary limit (x-ratelimit-remaining 0 and reset), per credential scope', async () => {
      github.createRepo('acme/prompts', { files, tokens: ['ghp_guild'] });
      github.fault({ route: 'commit', kind: 'rate-limit', status: 403, resetInSeconds: 600, times: 1 });
      const limited = await failure(source().fetch());
      expect(limited.kind).toBe('rate-limited');
      expect(limited.retryAt).toBe(Math.ceil((clock.now() + 600_000) / 1000) * 1000);
      expect((await failure(source().fetch())).kind).toBe('rate-limited');
      expect(github.count()).toBe(1);
      // Another credential has its own quota.
      const guild = source({}, tokenCredentials('ghp_guild', 'guild:9'));
      expect((await guild.fetch()).kind).toBe('snapshot');
    });

    it('stops calling once an answer reports the quota used up', async () => {
      await github.close();
      github = new GitHubEmulator({ clock, quota: { anonymous: 3 } });
      ({ baseUrl } = await github.start());
      github.createRepo('acme/prompts', { files });
      const first = await source().fetch();
      github.push('acme/prompts', 'main', { changes: { 'x.md': 'x' } });
      // The head request spends the last unit; the tarball would be refused, so it is not sent.
      const error = await failure(source().fetch({ known: { commit: snapshotOf(first).commit } }));
      expect(error.kind).toBe('rate-limited');
      expect(github.stats().byRoute).toEqual({ commit: { '200': 2 }, tarball: { '302': 1 }, download: { '200': 1 } });
      expect((await failure(source().fetch())).kind).toBe('rate-limited');
      expect(github.count()).toBe(4);
    });
  });

  describe('circuit breaker', () => {
    it('opens after repeated outages, fails fast without calling GitHub, and closes after a good probe', async () => {
      const sha = github.createRepo('acme/prompts', { files });
      const failing = github.fault({ route: 'commit', kind: 'status', status: 500 });
      const flaky = source({ maxRetries: 0 });
      expect((await failure(flaky.fetch())).kind).toBe('server');
      expect((await failure(flaky.fetch())).kind).toBe('server');
      expect(breakers.get(flaky.key).state).toBe('open');

      const open = await failure(flaky.fetch());
      expect(open.kind).toBe('circuit-open');
      expect(open.retryAt).toBe(clock.now() + 30_000);
      expect(github.count()).toBe(2);

      failing.remove();
      clock.advance(30_000);
      expect(snapshotOf(await flaky.fetch()).commit).toBe(sha);
      expect(breakers.get(flaky.key).state).toBe('closed');
    });

    it('does not count configuration errors (404) as outages', async () => {
      const missing = source({ repo: 'missing', maxRetries: 0 });
      for (let i = 0; i < 3; i += 1) expect((await failure(missing.fetch())).kind).toBe('not-found');
      expect(breakers.get(missing.key).state).toBe('closed');
    });
  });

  describe('archive contents', () => {
    it('fails with invalid-archive on a truncated archive', async () => {
      github.createRepo('acme/prompts', { files: manyFiles(200) });
      github.fault({ kind: 'truncate', fraction: 0.4 });
      const error = await failure(source().fetch());
      expect(error.kind).toBe('invalid-archive');
      expect(error.message).toContain('truncated or corrupt');
    });

    it('skips symlinks, submodules, hard links, devices and escaping paths, recording why', async () => {
      github.createRepo('acme/prompts', {
        files: {
          ...files,
          'prompts/link.md': { symlink: '../../../etc/passwd' },
          '.gitmodules': '[submodule "vendor/shared"]\n\tpath = vendor/shared\n\turl = https://github.com/acme/shared.git\n',
          'vendor/shared': { submodule: 'b'.repeat(40) },
        },
      });
      github.fault({
        kind: 'archive-entries',
        entries: [
          { name: '../escape.md', content: 'escaped' },
          { name: 'prompts/../../up.md', content: 'escaped' },
          { name: '/etc/cron.d/evil', verbatim: true, content: 'evil' },
          { name: 'elsewhere/x.md', verbatim: true, content: 'outside the top folder' },
          { name: 'prompts/hard.md', type: 'link', linkname: 'acme-prompts/PATH' },
          { name: 'prompts/tty', type: 'character-device' },
          { name: 'prompts/back\\slash.md', content: 'x' },
        ],
      });
      const snapshot = snapshotOf(await source().fetch());
      expect([...snapshot.files.keys()].sort()).toEqual(['.gitmodules', 'PATH', 'README.md', 'prompts/default.md']);
      const reasons = Object.fromEntries(snapshot.skipped.map((entry) => [entry.path, entry.reason]));
      expect(reasons).toEqual({
        'prompts/link.md': 'symbolic link (not followed)',
        '../escape.md': 'unsafe name: path contains ".."',
        'prompts/../../up.md': 'unsafe name: path contains ".."',
        '/etc/cron.d/evil': 'unsafe name: absolute path',
        'elsewhere/x.md': 'unsafe name: outside the archive folder',
        'prompts/hard.md': 'hard link (not followed)',
        'prompts/tty': 'special entry (character-device) skipped',
        'prompts/back\\slash.md': 'unsafe name: path contains a backslash',
        'vendor/shared': 'submodule (not followed)',
      });
    });

    it('fails with too-large past the file limit, and accepts exactly the limit', async () => {
      github.createRepo('acme/prompts', { files: manyFiles(10) });
      expect(snapshotOf(await source({ limits: { maxFiles: 10, maxBytes: 1_000_000 } }).fetch()).files.size).toBe(10);
      github.push('acme/prompts', 'main', { changes: { 'one-more.md': 'x' } });
      const error = await failure(source({ limits: { maxFiles: 10, maxBytes: 1_000_000 } }).fetch());
      expect(error.kind).toBe('too-large');
      expect(error.message).toContain('more than 10 files');
    });

    it('fails with too-large past the byte limit, without counting it as an outage', async () => {
      github.createRepo('acme/prompts', { files: { ...files, 'big.md': 'x'.repeat(5_000) } });
      const big = source({ limits: { maxFiles: 100, maxBytes: 4_096 } });
      const error = await failure(big.fetch());
      expect(error.kind).toBe('too-large');
      expect(error.message).toContain('4 KiB');
      expect(breakers.get(big.key).state).toBe('closed');
    });
  });

  describe('GitHub App authentication', () => {
    let privateKey: string;
    beforeAll(() => {
      privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    });

    it('finds the installation, mints a token, reuses it until shortly before expiry', async () => {
      const sha = github.createRepo('acme/prompts', { files, private: true }) as string;
      github.installApp(42, ['acme/prompts']);
      const app = new GitHubAppAuth({ appId: 42, privateKey, baseUrl, clock, installationTtlMs: 60 * 60 * 1000, onRequest: (status, route) => counted.push([status, route]) });
      const credentials = app.credentialsFor('acme', 'prompts');
      expect(credentials.scope).toBe('app:42');

      const first = await source({}, credentials).fetch();
      expect(snapshotOf(first).commit).toBe(sha);
      expect(github.stats().byRoute).toMatchObject({ installation: { '200': 1 }, 'access-token': { '201': 1 } });
      expect(counted.map(([status, route]) => `${status} ${route}`)).toContain('201 POST /app/installations/{installation_id}/access_tokens');

      clock.advance(50 * 60 * 1000);
      expect((await source({}, credentials).fetch({ known: { commit: sha, etag: first.etag as string } })).kind).toBe('not-modified');
      expect(github.installationTokensMinted).toBe(1);

      clock.advance(6 * 60 * 1000);
      expect((await source({}, credentials).fetch({ known: { commit: sha } })).kind).toBe('not-modified');
      expect(github.installationTokensMinted).toBe(2);
      expect(github.count('installation')).toBe(1);
    });

    it('says so when the App is not installed on the repository', async () => {
      github.createRepo('acme/prompts', { files, private: true });
      github.createRepo('acme/other', { files });
      github.installApp(42, ['acme/other']);
      const app = new GitHubAppAuth({ appId: 42, privateKey, baseUrl, clock });
      const error = await failure(source({}, app.credentialsFor('acme', 'prompts')).fetch());
      expect(error.kind).toBe('not-found');
      expect(error.message).toContain('not installed on acme/prompts');
    });
  });
});

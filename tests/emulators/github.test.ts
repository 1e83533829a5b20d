import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator } from './github/server.ts';

const files = {
  PATH: 'version: v1\nroutes:\n  global_default: "prompts/default.md"\n',
  'prompts/default.md': 'Summarize {messages}.\n',
  'prompts/meeting/default.md': 'Meeting notes.\n',
};

/** An unsigned token of the right shape: the emulator checks the shape only. */
function fakeAppJwt(appId: number, issuedAt = Math.floor(Date.now() / 1000)): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: issuedAt, exp: issuedAt + 600, iss: appId })}.c2lnbmF0dXJl`;
}

async function untar(gz: Buffer): Promise<Array<{ name: string; type: string; content: string; linkname?: string | null | undefined }>> {
  const extract = tar.extract();
  Readable.from([gunzipSync(gz)]).pipe(extract);
  const entries: Array<{ name: string; type: string; content: string; linkname?: string | null | undefined }> = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push({ name: entry.header.name, type: entry.header.type ?? 'file', content: Buffer.concat(chunks).toString(), linkname: entry.header.linkname });
  }
  return entries;
}

describe('GitHub emulator', () => {
  let clock: ManualClock;
  let github: GitHubEmulator;
  let baseUrl: string;

  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2025-06-01T12:00:00Z'));
    github = new GitHubEmulator({ clock });
    ({ baseUrl } = await github.start());
  });
  afterEach(async () => {
    await github.close();
  });

  it('answers a branch head as a bare SHA with a strong ETag, and 304 for If-None-Match', async () => {
    const sha = github.createRepo('acme/prompts', { files });
    const first = await fetch(`${baseUrl}/repos/acme/prompts/commits/main`, { headers: { accept: 'application/vnd.github.sha' } });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe(sha);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);

    const second = await fetch(`${baseUrl}/repos/acme/prompts/commits/HEAD`, { headers: { accept: 'application/vnd.github.sha', 'if-none-match': etag ?? '' } });
    expect(second.status).toBe(304);
    expect(second.headers.get('etag')).toBe(etag);

    github.push('acme/prompts', 'main', { changes: { 'prompts/default.md': 'Changed.\n' } });
    const third = await fetch(`${baseUrl}/repos/acme/prompts/commits/main`, { headers: { accept: 'application/vnd.github.sha', 'if-none-match': etag ?? '' } });
    expect(third.status).toBe(200);
    expect(await third.text()).toBe(github.head('acme/prompts'));
    expect(github.count('commit', 304)).toBe(1);
    expect(github.count('commit', 200)).toBe(2);
  });

  it('serves commits as JSON with parents, resolves SHA prefixes, and answers 422 for unknown refs', async () => {
    const first = github.createRepo('acme/prompts', { files }) as string;
    const second = github.push('acme/prompts', 'main', { changes: { 'new.md': 'x' } });
    expect(second).toMatch(/^[0-9a-f]{40}$/);
    expect(second).not.toBe(first);
    const body = (await (await fetch(`${baseUrl}/repos/acme/prompts/commits/${second.slice(0, 7)}`)).json()) as { sha: string; parents: Array<{ sha: string }> };
    expect(body.sha).toBe(second);
    expect(body.parents.map((parent) => parent.sha)).toEqual([first]);
    const missing = await fetch(`${baseUrl}/repos/acme/prompts/commits/no-such-branch`);
    expect(missing.status).toBe(422);
  });

  it('serves repository metadata and branches, and branch names with slashes', async () => {
    github.createRepo('acme/prompts', { files, defaultBranch: 'trunk' });
    const sha = github.push('acme/prompts', 'feature/new', { changes: { 'x.md': 'x' } });
    const repo = (await (await fetch(`${baseUrl}/repos/ACME/Prompts`)).json()) as { default_branch: string; full_name: string; private: boolean };
    expect(repo).toMatchObject({ default_branch: 'trunk', full_name: 'acme/prompts', private: false });
    const branch = (await (await fetch(`${baseUrl}/repos/acme/prompts/branches/feature/new`)).json()) as { name: string; commit: { sha: string } };
    expect(branch).toMatchObject({ name: 'feature/new', commit: { sha } });
    const encoded = await fetch(`${baseUrl}/repos/acme/prompts/commits/feature%2Fnew`, { headers: { accept: 'application/vnd.github.sha' } });
    expect(await encoded.text()).toBe(sha);
    expect((await fetch(`${baseUrl}/repos/acme/prompts/branches/nope`)).status).toBe(404);
  });

  it('redirects a tarball request to a download of a real gzipped tar in an owner-repo-sha7 folder', async () => {
    const sha = github.createRepo('acme/prompts', {
      files: { ...files, 'link.md': { symlink: 'prompts/default.md' }, 'vendor/lib': { submodule: 'a'.repeat(40) } },
    }) as string;
    const redirect = await fetch(`${baseUrl}/repos/acme/prompts/tarball/main`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`/_download/acme/prompts/${sha}\\.tar\\.gz\\?token=`));

    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get('x-ratelimit-remaining')).toBeNull();
    const gz = Buffer.from(await download.arrayBuffer());
    const raw = gunzipSync(gz);
    // git archive's pax global header, carrying the commit.
    expect(String.fromCharCode(raw[156] as number)).toBe('g');
    expect(raw.subarray(512, 1024).toString()).toContain(`comment=${sha}`);

    const top = `acme-prompts-${sha.slice(0, 7)}`;
    const entries = await untar(gz);
    expect(entries.map((entry) => `${entry.type} ${entry.name}`)).toEqual([
      `directory ${top}/`,
      `file ${top}/PATH`,
      `symlink ${top}/link.md`,
      `directory ${top}/prompts/`,
      `file ${top}/prompts/default.md`,
      `directory ${top}/prompts/meeting/`,
      `file ${top}/prompts/meeting/default.md`,
      `directory ${top}/vendor/`,
      `directory ${top}/vendor/lib/`,
    ]);
    expect(entries.find((entry) => entry.name.endsWith('/PATH'))?.content).toBe(files.PATH);
    expect(entries.find((entry) => entry.type === 'symlink')?.linkname).toBe('prompts/default.md');

    // Download URLs are short-lived and cannot be guessed.
    expect((await fetch(location.replace(/token=\w+/, 'token=guess'))).status).toBe(404);
    clock.advance(6 * 60 * 1000);
    expect((await fetch(location)).status).toBe(404);
  });

  it('serves contents as base64, raw on request, and folders as listings', async () => {
    github.createRepo('acme/prompts', { files });
    const file = (await (await fetch(`${baseUrl}/repos/acme/prompts/contents/prompts/default.md`)).json()) as { type: string; encoding: string; content: string; sha: string };
    expect(file.type).toBe('file');
    expect(file.encoding).toBe('base64');
    expect(Buffer.from(file.content, 'base64').toString()).toBe(files['prompts/default.md']);
    expect(file.sha).toMatch(/^[0-9a-f]{40}$/);
    const raw = await fetch(`${baseUrl}/repos/acme/prompts/contents/PATH?ref=main`, { headers: { accept: 'application/vnd.github.raw' } });
    expect(await raw.text()).toBe(files.PATH);
    const listing = (await (await fetch(`${baseUrl}/repos/acme/prompts/contents/prompts`)).json()) as Array<{ name: string; type: string }>;
    expect(listing.map((entry) => `${entry.type}:${entry.name}`)).toEqual(['file:default.md', 'dir:meeting']);
    expect((await fetch(`${baseUrl}/repos/acme/prompts/contents/missing.md`)).status).toBe(404);
  });

  it('hides private repositories: 404 without access, 401 for unknown tokens, 200 with the token', async () => {
    github.createRepo('acme/secret', { files, private: true, tokens: ['ghp_good'] });
    github.addToken('ghp_other');
    expect((await fetch(`${baseUrl}/repos/acme/secret`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/repos/acme/secret`, { headers: { authorization: 'token ghp_other' } })).status).toBe(404);
    const bad = await fetch(`${baseUrl}/repos/acme/secret`, { headers: { authorization: 'token ghp_unknown' } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toBe('Bad credentials');
    const good = await fetch(`${baseUrl}/repos/acme/secret`, { headers: { authorization: 'token ghp_good' } });
    expect(good.status).toBe(200);
    expect(((await good.json()) as { private: boolean }).private).toBe(true);
  });

  it('puts rate-limit headers on every API answer, refuses past the quota, and does not count authorized 304s', async () => {
    await github.close();
    github = new GitHubEmulator({ clock, quota: { anonymous: 2, authenticated: 3 } });
    ({ baseUrl } = await github.start());
    github.createRepo('acme/prompts', { files, tokens: ['ghp_t'] });

    const one = await fetch(`${baseUrl}/repos/acme/prompts`);
    expect(one.headers.get('x-ratelimit-limit')).toBe('2');
    expect(one.headers.get('x-ratelimit-remaining')).toBe('1');
    const missing = await fetch(`${baseUrl}/repos/acme/none`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-ratelimit-remaining')).toBe('0');
    const refused = await fetch(`${baseUrl}/repos/acme/prompts`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBe(Math.ceil((clock.now() + 3_600_000) / 1000));

    const auth = { authorization: 'token ghp_t', accept: 'application/vnd.github.sha' };
    const first = await fetch(`${baseUrl}/repos/acme/prompts/commits/main`, { headers: auth });
    const etag = first.headers.get('etag') ?? '';
    for (let i = 0; i < 3; i += 1) {
      const cached = await fetch(`${baseUrl}/repos/acme/prompts/commits/main`, { headers: { ...auth, 'if-none-match': etag } });
      expect(cached.status).toBe(304);
      expect(cached.headers.get('x-ratelimit-remaining')).toBe('2');
    }

    clock.advance(3_600_000);
    expect((await fetch(`${baseUrl}/repos/acme/prompts`)).status).toBe(200);
  });

  it('injects faults per route, a given number of times, and counts every answer', async () => {
    github.createRepo('acme/prompts', { files });
    github.createRepo('acme/other', { files });
    github.fault({ route: 'commit', repo: 'acme/prompts', kind: 'status', status: 503, times: 2 });
    const handle = github.fault({ route: 'repo', kind: 'rate-limit', status: 429, retryAfterSeconds: 30 });

    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetch(`${baseUrl}/repos/acme/prompts/commits/main`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await fetch(`${baseUrl}/repos/acme/other/commits/main`)).status).toBe(200);

    const limited = await fetch(`${baseUrl}/repos/acme/prompts`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('60');
    handle.remove();
    expect(handle.hits).toBe(1);
    expect((await fetch(`${baseUrl}/repos/acme/prompts`)).status).toBe(200);

    github.fault({ route: 'branch', kind: 'rate-limit', resetInSeconds: 120, times: 1 });
    const primary = await fetch(`${baseUrl}/repos/acme/prompts/branches/main`);
    expect(primary.status).toBe(403);
    expect(primary.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(primary.headers.get('x-ratelimit-reset')).toBe(String(Math.ceil((clock.now() + 120_000) / 1000)));

    expect(github.stats().byRoute.commit).toEqual({ '503': 2, '200': 2 });
    expect(github.count()).toBe(github.stats().total);
    expect(github.requests().at(-1)).toMatchObject({ route: 'branch', repo: 'acme/prompts', status: 403, auth: 'anonymous' });
    github.resetStats();
    expect(github.count()).toBe(0);
  });

  it('hangs, drops connections, and truncates archives on request', async () => {
    github.createRepo('acme/prompts', { files });
    github.fault({ route: 'repo', kind: 'hang', times: 1 });
    await expect(fetch(`${baseUrl}/repos/acme/prompts`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(github.count('repo', 'hang')).toBe(1);

    github.fault({ route: 'repo', kind: 'reset', times: 1 });
    await expect(fetch(`${baseUrl}/repos/acme/prompts`)).rejects.toThrow();
    expect(github.count('repo', 'reset')).toBe(1);

    github.fault({ kind: 'truncate', times: 1 });
    const location = (await fetch(`${baseUrl}/repos/acme/prompts/tarball/main`, { redirect: 'manual' })).headers.get('location') ?? '';
    const cut = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(() => gunzipSync(cut)).toThrow(/unexpected end of file/);
    const whole = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(gunzipSync(whole).byteLength).toBeGreaterThan(0);
  });

  it('appends hostile archive entries on request', async () => {
    const sha = github.createRepo('acme/prompts', { files }) as string;
    github.fault({ kind: 'archive-entries', entries: [{ name: '../evil.md', content: 'x' }, { name: '/etc/passwd', verbatim: true, content: 'root' }, { name: 'dev', type: 'character-device' }] });
    const location = (await fetch(`${baseUrl}/repos/acme/prompts/tarball/${sha}`, { redirect: 'manual' })).headers.get('location') ?? '';
    const names = (await untar(Buffer.from(await (await fetch(location)).arrayBuffer()))).map((entry) => entry.name);
    expect(names).toContain(`acme-prompts-${sha.slice(0, 7)}/../evil.md`);
    expect(names).toContain('/etc/passwd');
    expect(names).toContain(`acme-prompts-${sha.slice(0, 7)}/dev`);
  });

  it('answers 404 for a renamed or deleted repository', async () => {
    github.createRepo('acme/prompts', { files });
    github.createRepo('acme/gone', { files });
    github.renameRepo('acme/prompts', 'acme/renamed');
    github.deleteRepo('acme/gone');
    expect((await fetch(`${baseUrl}/repos/acme/prompts/commits/main`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/repos/acme/gone`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/repos/acme/renamed/commits/main`)).status).toBe(200);
  });

  it('finds App installations and mints installation tokens that read private repositories until they expire', async () => {
    github.createRepo('acme/secret', { files, private: true });
    const installationId = github.installApp(42, ['acme/secret']);

    expect((await fetch(`${baseUrl}/repos/acme/secret/installation`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/repos/acme/secret/installation`, { headers: { authorization: 'Bearer not.a-jwt.!' } })).status).toBe(401);
    const found = await fetch(`${baseUrl}/repos/acme/secret/installation`, { headers: { authorization: `Bearer ${fakeAppJwt(42)}` } });
    expect(((await found.json()) as { id: number }).id).toBe(installationId);
    expect((await fetch(`${baseUrl}/repos/acme/secret/installation`, { headers: { authorization: `Bearer ${fakeAppJwt(7)}` } })).status).toBe(401);

    const minted = await fetch(`${baseUrl}/app/installations/${installationId}/access_tokens`, { method: 'POST', headers: { authorization: `Bearer ${fakeAppJwt(42)}` } });
    expect(minted.status).toBe(201);
    const { token, expires_at } = (await minted.json()) as { token: string; expires_at: string };
    expect(token).toMatch(/^ghs_/);
    expect(Date.parse(expires_at)).toBe(Math.floor((clock.now() + 3_600_000) / 1000) * 1000);

    expect((await fetch(`${baseUrl}/repos/acme/secret`, { headers: { authorization: `token ${token}` } })).status).toBe(200);
    clock.advance(3_600_000);
    expect((await fetch(`${baseUrl}/repos/acme/secret`, { headers: { authorization: `token ${token}` } })).status).toBe(401);
  });

  it('runs the web flow of a GitHub App: a code once for a user token, which lists the installations the user reaches', async () => {
    github.createRepo('acme/prompts', { files, private: true });
    github.createRepo('solo/prompts', { files });
    const orgInstallation = github.installApp(42, ['acme/prompts'], { account: 'acme' });
    const userInstallation = github.installApp(42, ['solo/prompts'], { account: 'solo', accountType: 'User' });
    github.installApp(43, ['acme/prompts'], { account: 'acme' });
    github.registerAppClient(42, { clientId: 'Iv1.client', clientSecret: 's3cret' });
    github.setOrgRole('acme', 'alice', 'member');

    const redirect = new URL(github.installRedirect('https://bot.example/github/setup', { clientId: 'Iv1.client', login: 'alice', installationId: orgInstallation, state: 'st' }));
    expect(Object.fromEntries(redirect.searchParams)).toMatchObject({ installation_id: String(orgInstallation), setup_action: 'install', state: 'st' });
    const code = redirect.searchParams.get('code') as string;

    const exchange = (body: Record<string, string>, accept = 'application/json') =>
      fetch(`${baseUrl}/login/oauth/access_token`, { method: 'POST', headers: { accept, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const wrongSecret = (await (await exchange({ client_id: 'Iv1.client', client_secret: 'nope', code })).json()) as Record<string, unknown>;
    expect(wrongSecret.error).toBe('incorrect_client_credentials');
    const granted = (await (await exchange({ client_id: 'Iv1.client', client_secret: 's3cret', code })).json()) as Record<string, unknown>;
    expect(granted).toMatchObject({ token_type: 'bearer', expires_in: 28_800 });
    expect(granted.access_token).toMatch(/^ghu_/);
    const again = await exchange({ client_id: 'Iv1.client', client_secret: 's3cret', code }, 'text/plain');
    expect(again.status).toBe(200);
    expect(new URLSearchParams(await again.text()).get('error')).toBe('bad_verification_code');

    const auth = { authorization: `token ${String(granted.access_token)}` };
    expect(await (await fetch(`${baseUrl}/user`, { headers: auth })).json()).toMatchObject({ login: 'alice', type: 'User' });
    const listed = (await (await fetch(`${baseUrl}/user/installations`, { headers: auth })).json()) as { total_count: number; installations: Array<{ id: number; app_id: number; account: { login: string; type: string } }> };
    // Only App 42's installations, and only those alice reaches (her org's, not solo's).
    expect(listed.installations.map((i) => [i.id, i.app_id, i.account.login, i.account.type])).toEqual([[orgInstallation, 42, 'acme', 'Organization']]);
    expect(listed.installations.some((i) => i.id === userInstallation)).toBe(false);
    expect(await (await fetch(`${baseUrl}/user/memberships/orgs/acme`, { headers: auth })).json()).toMatchObject({ state: 'active', role: 'member' });
    expect((await fetch(`${baseUrl}/user/memberships/orgs/other`, { headers: auth })).status).toBe(404);
    // A user token reads no private repository, and /user needs one.
    expect((await fetch(`${baseUrl}/repos/acme/prompts`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${baseUrl}/user`)).status).toBe(401);
    expect(github.count('oauth-token')).toBe(3);
  });

  it('accepts the GitHub Enterprise /api/v3 prefix', async () => {
    const sha = github.createRepo('acme/prompts', { files });
    const answer = await fetch(`${baseUrl}/api/v3/repos/acme/prompts/commits/main`, { headers: { accept: 'application/vnd.github.sha' } });
    expect(await answer.text()).toBe(sha);
  });

  describe('directory repositories', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gh-emulator-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('serves a directory and, when live, commits what changed on disk', async () => {
      await mkdir(join(dir, 'prompts'));
      await mkdir(join(dir, '.git'));
      await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
      await writeFile(join(dir, 'PATH'), files.PATH);
      await writeFile(join(dir, 'prompts', 'default.md'), 'v1');
      const first = await github.addDirectoryRepo('acme/disk', dir, { live: true });
      const listing = (await (await fetch(`${baseUrl}/repos/acme/disk/contents/`)).json()) as Array<{ name: string }>;
      expect(listing.map((entry) => entry.name)).toEqual(['PATH', 'prompts']);

      await writeFile(join(dir, 'prompts', 'default.md'), 'v2');
      const head = await (await fetch(`${baseUrl}/repos/acme/disk/commits/main`, { headers: { accept: 'application/vnd.github.sha' } })).text();
      expect(head).not.toBe(first);
      const again = await (await fetch(`${baseUrl}/repos/acme/disk/commits/main`, { headers: { accept: 'application/vnd.github.sha' } })).text();
      expect(again).toBe(head);
    });
  });
});

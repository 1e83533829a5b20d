/**
 * GitHub App credentials are scoped to the guilds an installation was
 * linked to. The real prompt engine and the real setup route
 * (over HTTP) against the GitHub emulator, on PGlite and on Postgres: the
 * install flow, every way to cheat it, and what a guild gets served.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.ts';
import { createGithubAppLinking, type GithubAppLinking } from '../../src/github-app/linking.ts';
import { GITHUB_APP_SETUP_PATH, mountGithubAppSetup, type GithubAppSetupDeps } from '../../src/github-app/setup-route.ts';
import { createHttpServer, type HttpServer } from '../../src/http/server.ts';
import type { PromptEngine } from '../../src/prompts/engine.ts';
import { createGitHubClient } from '../../src/prompts/sources/github-http.ts';
import { LINK_HINT } from '../../src/prompts/sources/linked-app-credentials.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';
import { describeEachDatabase, silentLogger } from '../helpers/databases.ts';
import { buildEngine, promptRepoFiles } from './engine-helpers.ts';

const APP_ID = 42;
const CLIENT = { clientId: 'Iv23liRecapTest', clientSecret: 'recap-client-secret-0123456789abcdef' };
const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

describeEachDatabase('GitHub App installations linked to guilds', (database) => {
  let clock: ManualClock;
  let github: GitHubEmulator;
  let running: RunningEmulator;
  /** A GitHub Enterprise server with a repository of the same name. */
  let ghe: GitHubEmulator;
  let gheRunning: RunningEmulator;
  let privateKey: string;
  let env: Record<string, string>;
  let engine: PromptEngine;
  let linking: GithubAppLinking;
  let http: HttpServer;
  let setupUrl: string;
  /** A second deployment of the route that knows its PUBLIC_URL. */
  let publicHttp: HttpServer;
  let publicSetupUrl: string;
  let victimInstallation: number;
  let guildSeq = 0;

  const newGuild = (): string => `9000000000000${String(++guildSeq).padStart(5, '0')}`;

  beforeAll(async () => {
    privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    clock = new ManualClock(Date.now());
    github = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
    running = await github.start();
    github.registerAppClient(APP_ID, CLIENT);
    github.createRepo('victim/secret-prompts', { private: true, defaultBranch: 'trunk', files: promptRepoFiles('SECRET') });
    github.createRepo('acme/public-prompts', { files: promptRepoFiles('PUBLIC') });
    github.createRepo('mallory/own-prompts', { private: true, files: promptRepoFiles('MALLORY') });
    victimInstallation = github.installApp(APP_ID, ['victim/secret-prompts'], { account: 'victim' });
    // Installed on the public repo too, and linked to nobody.
    github.installApp(APP_ID, ['acme/public-prompts'], { account: 'acme' });
    github.setOrgRole('victim', 'vic-owner', 'admin');
    github.setOrgRole('victim', 'vic-member', 'member');
    github.addUser('mallory');
    ghe = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
    gheRunning = await ghe.start();
    ghe.createRepo('victim/secret-prompts', { private: true, files: promptRepoFiles('GHE') });
    env = {
      // Generous: the machine is shared, and time budgets are not what these tests are about.
      GITHUB_REQUEST_TIMEOUT_MS: '10000',
      GITHUB_REFRESH_BUDGET_MS: '20000',
      GITHUB_ENTERPRISE_HOSTS: new URL(gheRunning.baseUrl).host,
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: privateKey,
      GITHUB_APP_SLUG: 'recap-bot-test',
      GITHUB_APP_CLIENT_ID: CLIENT.clientId,
      GITHUB_APP_CLIENT_SECRET: CLIENT.clientSecret,
    };
    ({ engine } = await buildEngine(database().handle, { apiUrl: running.baseUrl, clock, env }));
    const config = loadConfig({ GITHUB_API_URL: running.baseUrl, ...env });
    linking = createGithubAppLinking({ db: database().handle.db, config, octokit: createGitHubClient({ baseUrl: running.baseUrl }), clock, logger: silentLogger }) as GithubAppLinking;
    http = createHttpServer(silentLogger);
    mountGithubAppSetup(http, { linking, onLinked: (guildId) => engine.invalidateGuild(guildId), clock, logger: silentLogger });
    const { url } = await http.listen(0, '127.0.0.1');
    setupUrl = `${url}${GITHUB_APP_SETUP_PATH}`;
    publicHttp = createHttpServer(silentLogger);
    const publicDeps: GithubAppSetupDeps = { linking, onLinked: (guildId) => engine.invalidateGuild(guildId), clock, logger: silentLogger };
    mountGithubAppSetup(publicHttp, publicDeps);
    const publicListening = await publicHttp.listen(0, '127.0.0.1');
    publicDeps.publicUrl = new URL(`${publicListening.url}/`);
    publicSetupUrl = `${publicListening.url}${GITHUB_APP_SETUP_PATH}`;
  });
  afterAll(async () => {
    await http?.close();
    await publicHttp?.close();
    await engine?.settle();
    await running?.close();
    await gheRunning?.close();
  });
  beforeEach(() => {
    github.resetStats();
  });
  afterEach(async () => {
    await engine.settle();
  });

  async function stateFor(guildId: string, discordUser = '700000000000000001'): Promise<string> {
    const { url } = await linking.installLink(guildId, discordUser);
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${running.baseUrl}/apps/recap-bot-test/installations/new`);
    return parsed.searchParams.get('state') as string;
  }

  /** The browser arriving back from GitHub after `login` installed and authorized. */
  async function complete(options: { login: string; installationId: number; state: string | undefined; code?: boolean }): Promise<{ status: number; page: string }> {
    let target = github.installRedirect(setupUrl, { clientId: CLIENT.clientId, login: options.login, installationId: options.installationId, ...(options.state === undefined ? {} : { state: options.state }) });
    if (options.code === false) {
      const url = new URL(target);
      url.searchParams.delete('code');
      target = url.toString();
    }
    const response = await fetch(target);
    return { status: response.status, page: await response.text() };
  }

  async function link(guildId: string, login: string, installationId: number): Promise<void> {
    const result = await complete({ login, installationId, state: await stateFor(guildId) });
    expect(result.status, result.page).toBe(200);
  }

  async function configure(guildId: string, repo: string): Promise<Awaited<ReturnType<PromptEngine['inspect']>>> {
    const inspected = await engine.inspect({ guildId, repoUrl: `https://github.com/${repo}` });
    if (inspected.ok) await engine.saveConfig({ ...inspected.config, actorId: 'admin' });
    return inspected;
  }

  async function linkRows(): Promise<unknown[]> {
    return database().handle.db.selectFrom('github_app_links').selectAll().orderBy('guild_id').orderBy('installation_id').execute();
  }

  it('links an installation for the guild its owner approved, and that guild reads the private repo through it', async () => {
    const guild = newGuild();
    const result = await complete({ login: 'vic-owner', installationId: victimInstallation, state: await stateFor(guild) });
    expect(result.status).toBe(200);
    expect(result.page).toContain(`Installation ${victimInstallation} on the GitHub organization victim is now linked to the Discord server ${guild}, approved by vic-owner.`);
    expect(await linking.links(guild)).toMatchObject([{ guildId: guild, installationId: victimInstallation, accountLogin: 'victim', accountType: 'Organization', linkedByGitHubLogin: 'vic-owner', linkedByDiscordUser: '700000000000000001' }]);

    const inspected = await configure(guild, 'victim/secret-prompts');
    expect(inspected.ok && inspected.report.ok).toBe(true);
    // The default branch was asked with the installation's token, as the repository is read.
    expect(inspected.ok && inspected.config.branch).toBe('trunk');
    expect(github.requests().filter((r) => r.route === 'repo').map((r) => [r.status, r.auth])).toEqual([[200, 'installation']]);
    const served = await engine.resolver.resolve(guild, ctx);
    expect(served.level).toBe('custom');
    expect(served.content).toContain('SECRET');
  });

  it('refuses an unrelated guild that names the private repo: a clear message, nothing served, no token used', async () => {
    const owner = newGuild();
    await link(owner, 'vic-owner', victimInstallation);
    const attacker = newGuild();
    const before = { links: await linkRows(), minted: github.installationTokensMinted };
    github.resetStats();

    const inspected = await engine.inspect({ guildId: attacker, repoUrl: 'https://github.com/victim/secret-prompts' });
    expect(inspected.ok).toBe(true);
    if (!inspected.ok) return;
    expect(inspected.report.ok).toBe(false);
    expect(inspected.report.files).toEqual([]);
    expect(inspected.report.error).toContain('GitHub answered 404 for victim/secret-prompts: the repository or branch is gone, or these credentials cannot see it.');
    expect(inspected.report.error).toContain(LINK_HINT);
    // Saved anyway (as "Save anyway" does): still nothing of the victim's.
    await engine.saveConfig({ ...inspected.config, actorId: 'attacker' });
    const served = await engine.resolver.resolve(attacker, ctx);
    expect(served.level).not.toBe('custom');
    expect(served.level).not.toBe('cached');
    expect(served.content).not.toContain('SECRET');

    // Every request made for the attacker was anonymous: no JWT lookup, no token minted.
    const made = github.requests();
    expect(made.length).toBeGreaterThan(0);
    expect(made.every((r) => r.auth === 'anonymous')).toBe(true);
    expect(github.count('installation')).toBe(0);
    expect(github.count('access-token')).toBe(0);
    expect(github.installationTokensMinted).toBe(before.minted);
    expect(await linkRows()).toEqual(before.links);
    // The owner's guild still reads it.
    expect((await configure(owner, 'victim/secret-prompts')).ok).toBe(true);
    expect((await engine.resolver.resolve(owner, ctx)).content).toContain('SECRET');
  });

  it('refuses a guild that linked an installation of its own: the installation covering the repo is not its', async () => {
    const mallorysInstallation = github.installApp(APP_ID, ['mallory/own-prompts'], { account: 'mallory', accountType: 'User' });
    const attacker = newGuild();
    await link(attacker, 'mallory', mallorysInstallation);
    expect((await configure(attacker, 'mallory/own-prompts')).ok).toBe(true);
    expect((await engine.resolver.resolve(attacker, ctx)).content).toContain('MALLORY');

    github.resetStats();
    const minted = github.installationTokensMinted;
    const inspected = await engine.inspect({ guildId: attacker, repoUrl: 'https://github.com/victim/secret-prompts' });
    expect(inspected.ok && inspected.report.ok).toBe(false);
    expect(inspected.ok && inspected.report.error).toContain(LINK_HINT);
    expect(github.requests().filter((r) => r.repo === 'victim/secret-prompts' && r.route !== 'installation').every((r) => r.auth === 'anonymous')).toBe(true);
    expect(github.installationTokensMinted).toBe(minted);
  });

  it('refuses a spoofed installation_id: the user cannot reach that installation', async () => {
    const attacker = newGuild();
    const before = await linkRows();
    const state = await stateFor(attacker);
    const result = await complete({ login: 'mallory', installationId: victimInstallation, state });
    expect(result.status).toBe(403);
    expect(result.page).toContain(`The GitHub user mallory has no access to an installation ${victimInstallation} of this App.`);
    expect(await linkRows()).toEqual(before);
    // The state was used up by the attempt.
    const replay = await complete({ login: 'vic-owner', installationId: victimInstallation, state });
    expect(replay.status).toBe(400);
    expect(replay.page).toContain('used already');
    expect(await linkRows()).toEqual(before);
  });

  it('refuses an organization member who is not an owner, and a user installation of someone else', async () => {
    const guild = newGuild();
    const before = await linkRows();
    const member = await complete({ login: 'vic-member', installationId: victimInstallation, state: await stateFor(guild) });
    expect(member.status).toBe(403);
    expect(member.page).toContain('vic-member is not an owner of the GitHub organization victim');

    const usersInstallation = github.installApp(APP_ID, ['mallory/own-prompts'], { account: 'mallory', accountType: 'User' });
    github.addUser('eve');
    const other = await complete({ login: 'eve', installationId: usersInstallation, state: await stateFor(guild) });
    expect(other.status).toBe(403);
    expect(await linkRows()).toEqual(before);
  });

  it('refuses expired, forged, spliced, foreign and missing states before asking GitHub anything', async () => {
    const guild = newGuild();
    const other = newGuild();
    const before = await linkRows();
    const expectRefused = async (state: string | undefined, reason: string): Promise<void> => {
      const result = await complete({ login: 'vic-owner', installationId: victimInstallation, state });
      expect(result.status).toBe(400);
      expect(result.page).toContain(reason);
      expect(result.page).not.toContain('<script');
    };

    const expired = await stateFor(guild);
    clock.advance(10 * 60_000 + 1);
    await expectRefused(expired, 'has expired');

    const good = await stateFor(guild);
    const [version, body, mac] = good.split('.') as [string, string, string];
    const flipped = `${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}${mac.at(-1)}`;
    await expectRefused(`${version}.${body}.${flipped}`, 'bad signature');

    // Another guild's state body with this guild's signature, and the reverse.
    const [, otherBody, otherMac] = (await stateFor(other)).split('.') as [string, string, string];
    await expectRefused(`${version}.${otherBody}.${mac}`, 'bad signature');
    await expectRefused(`${version}.${body}.${otherMac}`, 'bad signature');

    // Signed by another deployment (another client secret).
    const foreignConfig = loadConfig({ GITHUB_API_URL: running.baseUrl, ...env, GITHUB_APP_CLIENT_SECRET: 'another-deployment-secret-000000000000' });
    const foreign = createGithubAppLinking({ db: database().handle.db, config: foreignConfig, octokit: createGitHubClient({ baseUrl: running.baseUrl }), clock, logger: silentLogger }) as GithubAppLinking;
    const foreignState = new URL((await foreign.installLink(guild, '700000000000000001')).url).searchParams.get('state') as string;
    await expectRefused(foreignState, 'bad signature');

    await expectRefused(undefined, 'carried no state');
    await expectRefused('v1.e30.AAAA', 'not one the bot issued');
    await expectRefused('x'.repeat(5000), 'not one the bot issued');

    // None of these reached GitHub: the codes the emulator issued were never exchanged.
    expect(github.count('oauth-token')).toBe(0);
    expect(github.count('user-installations')).toBe(0);
    expect(await linkRows()).toEqual(before);
    // The untouched good state still works once.
    const ok = await complete({ login: 'vic-owner', installationId: victimInstallation, state: good });
    expect(ok.status).toBe(200);
    await linking.unlink(guild, victimInstallation);
  });

  it('keeps at most five unused install links per guild: asking again drops the oldest', async () => {
    const guild = newGuild();
    const states: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      states.push(await stateFor(guild));
      clock.advance(1_000);
    }
    const held = await database().handle.db.selectFrom('github_app_install_states').select('nonce').where('guild_id', '=', guild).execute();
    expect(held).toHaveLength(5);
    const oldest = await complete({ login: 'vic-owner', installationId: victimInstallation, state: states[0] });
    expect(oldest.status).toBe(400);
    expect(oldest.page).toContain('used already');
    const newest = await complete({ login: 'vic-owner', installationId: victimInstallation, state: states[5] });
    expect(newest.status).toBe(200);
    await linking.unlink(guild, victimInstallation);
  });

  it('refuses a setup URL without an authorization code, and a code GitHub does not accept', async () => {
    const guild = newGuild();
    const before = await linkRows();
    const noCode = await complete({ login: 'vic-owner', installationId: victimInstallation, state: await stateFor(guild), code: false });
    expect(noCode.status).toBe(400);
    expect(noCode.page).toContain('Request user authorization (OAuth) during installation');

    const state = await stateFor(guild);
    const target = new URL(setupUrl);
    target.search = new URLSearchParams({ installation_id: String(victimInstallation), setup_action: 'install', state, code: 'not-a-code-github-issued' }).toString();
    const badCode = await fetch(target);
    expect(badCode.status).toBe(400);
    expect(await badCode.text()).toContain('GitHub did not accept the authorization code');
    expect(github.count('user-installations')).toBe(0);
    expect(await linkRows()).toEqual(before);
  });

  it('sends the browser through GitHub\'s authorization when an existing installation is linked again, then checks it the same way', async () => {
    const guild = newGuild();
    const before = await linkRows();
    const arrive = async (login: string, installationId: number): Promise<{ status: number; page: string }> => {
      const state = await stateFor(guild);
      // GitHub's redirect after updating an installation: no code (no authorization was asked).
      const first = await fetch(`${publicSetupUrl}?${new URLSearchParams({ installation_id: String(installationId), setup_action: 'update', state })}`, { redirect: 'manual' });
      expect(first.status).toBe(302);
      const authorize = first.headers.get('location') as string;
      expect(authorize.startsWith(`${running.baseUrl}/login/oauth/authorize?`)).toBe(true);
      expect(new URL(authorize).searchParams.get('client_id')).toBe(CLIENT.clientId);
      const back = await fetch(github.authorizeRedirect(authorize, login, publicSetupUrl));
      return { status: back.status, page: await back.text() };
    };

    const spoofed = await arrive('mallory', victimInstallation);
    expect(spoofed.status).toBe(403);
    expect(await linkRows()).toEqual(before);

    const owner = await arrive('vic-owner', victimInstallation);
    expect(owner.status, owner.page).toBe(200);
    expect(await linking.links(guild)).toMatchObject([{ installationId: victimInstallation, linkedByGitHubLogin: 'vic-owner' }]);

    // Back from the authorization without a code: refused, not sent round again.
    const looped = await fetch(`${publicSetupUrl}?${new URLSearchParams({ installation_id: String(victimInstallation), setup_action: 'update', authorized: '1', state: await stateFor(guild) })}`, { redirect: 'manual' });
    expect(looped.status).toBe(400);
    await linking.unlink(guild, victimInstallation);
  });

  it('reads unlinked public repositories anonymously, as without the App, even where the App is installed', async () => {
    const guild = newGuild();
    await link(guild, 'vic-owner', victimInstallation);
    github.resetStats();
    const inspected = await configure(guild, 'acme/public-prompts');
    expect(inspected.ok && inspected.report.ok).toBe(true);
    expect((await engine.resolver.resolve(guild, ctx)).content).toContain('PUBLIC');
    const reads = github.requests().filter((r) => r.repo === 'acme/public-prompts' && r.route !== 'installation');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.auth === 'anonymous')).toBe(true);
    expect(github.count('access-token')).toBe(0);

    const unlinked = newGuild();
    github.resetStats();
    expect((await configure(unlinked, 'acme/public-prompts')).ok).toBe(true);
    expect(github.requests().every((r) => r.auth === 'anonymous')).toBe(true);
  });

  it('never sends an installation token to another GitHub host, even for a repository of the same name', async () => {
    const guild = newGuild();
    await link(guild, 'vic-owner', victimInstallation);
    github.resetStats();
    ghe.resetStats();
    const minted = github.installationTokensMinted;
    const inspected = await engine.inspect({ guildId: guild, repoUrl: `${gheRunning.baseUrl}/victim/secret-prompts` });
    expect(inspected.ok && inspected.report.ok).toBe(false);
    expect(ghe.requests().length).toBeGreaterThan(0);
    expect(ghe.requests().every((r) => r.auth === 'anonymous')).toBe(true);
    expect(github.requests()).toEqual([]);
    expect(github.installationTokensMinted).toBe(minted);
    await linking.unlink(guild, victimInstallation);
  });

  it('stops using an installation for a guild once it is unlinked', async () => {
    const guild = newGuild();
    await link(guild, 'vic-owner', victimInstallation);
    expect((await configure(guild, 'victim/secret-prompts')).ok).toBe(true);
    expect(await linking.unlink(guild, victimInstallation)).toBe(true);
    engine.invalidateGuild(guild);
    github.resetStats();
    const minted = github.installationTokensMinted;
    await engine.refresh(guild);
    // The guild's own earlier snapshot may still serve it while stale; GitHub is not asked with the token.
    expect((await engine.status(guild)).lastError).toContain(LINK_HINT);
    expect(github.installationTokensMinted).toBe(minted);
    expect(github.requests().filter((r) => r.repo === 'victim/secret-prompts').every((r) => r.auth === 'anonymous')).toBe(true);
  });
});

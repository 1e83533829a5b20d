/**
 * What scoping GitHub App credentials to linked guilds costs:
 *
 * - a forced refresh that ends in a 304, for a guild reading a private repo
 *   through its linked installation, a guild reading a public repo
 *   anonymously in App mode (no link covers it), and a guild without the App
 *   (the baseline): the difference is the link check;
 * - refusing a forged install `state` at the setup URL (signature only, no I/O).
 *
 * The real engine over in-memory PGlite, against the GitHub emulator.
 */
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../src/config/env.ts';
import { createGithubAppLinking, type GithubAppLinking } from '../src/github-app/linking.ts';
import { InstallationLinkStore } from '../src/prompts/sources/app-installations.ts';
import { createGitHubClient } from '../src/prompts/sources/github-http.ts';
import type { PromptEngine } from '../src/prompts/engine.ts';
import { ManualClock } from '../src/resilience/clock.ts';
import { GitHubEmulator } from '../tests/emulators/github/server.ts';
import { quantile, report } from './_report.ts';
import { buildBenchEngine, closeDatabase, configureGuild, loadBundled, openMemoryDatabase } from './_prompts-engine.ts';
import { workloadRepoFiles } from './_prompts-repos.ts';

const REFRESHES = 200;
const STATE_CHECKS = 20_000;

export async function run(): Promise<void> {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const clock = new ManualClock(Date.now());
  const github = new GitHubEmulator({ clock, quota: { anonymous: 1_000_000, authenticated: 1_000_000 } });
  const running = await github.start();
  const database = await openMemoryDatabase();
  const bundled = await loadBundled();
  const appEnv = {
    GITHUB_APP_ID: '42',
    GITHUB_APP_PRIVATE_KEY: privateKey,
    GITHUB_APP_SLUG: 'recap-bench',
    GITHUB_APP_CLIENT_ID: 'Iv23liBench',
    GITHUB_APP_CLIENT_SECRET: 'bench-client-secret-0123456789',
  };
  const engines: PromptEngine[] = [];
  try {
    github.createRepo('bench/private', { private: true, files: workloadRepoFiles('bench/private') });
    github.createRepo('bench/public', { files: workloadRepoFiles('bench/public') });
    const installation = github.installApp(42, ['bench/private'], { account: 'bench' });
    await InstallationLinkStore.over(database.db).link({
      guildId: '100000000000000001',
      installationId: installation,
      accountLogin: 'bench',
      accountType: 'Organization',
      linkedByDiscordUser: '200000000000000001',
      linkedByGitHubLogin: 'bench-owner',
      linkedAt: new Date(clock.now()),
    });

    const withApp = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock, bundled, env: appEnv });
    const withoutApp = await buildBenchEngine(database, { apiUrl: running.baseUrl, clock, bundled });
    engines.push(withApp, withoutApp);
    const cases: Array<[string, PromptEngine, string, string]> = [
      ['github-app-refresh-304-linked-private', withApp, '100000000000000001', 'bench/private'],
      ['github-app-refresh-304-unlinked-public', withApp, '100000000000000002', 'bench/public'],
      ['github-app-refresh-304-without-app', withoutApp, '100000000000000003', 'bench/public'],
    ];
    for (const [, engine, guildId, repo] of cases) await configureGuild(engine, guildId, repo);
    for (const [figure, engine, guildId] of cases) {
      const samples: number[] = [];
      for (let i = 0; i < REFRESHES; i += 1) {
        const started = performance.now();
        // What `/prompt-config refresh` does: the conditional request, and the sync record it writes.
        const report = await engine.refresh(guildId);
        samples.push(performance.now() - started);
        if (report?.ok !== true) throw new Error(`${figure}: refresh failed: ${report?.summary ?? 'no config'}`);
      }
      report(`${figure}-p50`, quantile(samples, 0.5), 'ms');
      report(`${figure}-p95`, quantile(samples, 0.95), 'ms');
    }

    const linking = createGithubAppLinking({
      db: database.db,
      config: loadConfig({ GITHUB_API_URL: running.baseUrl, ...appEnv }),
      octokit: createGitHubClient({ baseUrl: running.baseUrl }),
      clock,
      logger: (await import('./_prompts-engine.ts')).silentLogger,
    }) as GithubAppLinking;
    const good = new URL((await linking.installLink('100000000000000001', '200000000000000001')).url).searchParams.get('state') as string;
    const forged = `${good.slice(0, -4)}AAAA`;
    const started = performance.now();
    for (let i = 0; i < STATE_CHECKS; i += 1) {
      if (linking.checkState(forged).ok) throw new Error('a forged state passed');
    }
    report('github-app-forged-state-refusal', ((performance.now() - started) * 1000) / STATE_CHECKS, 'µs');
  } finally {
    for (const engine of engines) await engine.settle();
    await running.close();
    await closeDatabase(database);
  }
}

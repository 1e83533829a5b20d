import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { formatProblem } from '../../src/prompts/problems.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { postWebhook, pushPayload, startWebhookApp, type WebhookApp } from '../webhooks/helpers.ts';
import { promptRepoFiles } from './engine-helpers.ts';
import { includeBombRepo } from './include-bombs.ts';

const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };
const REFUSAL = /^d\.md:1:6: uses variables more than 2,000 times once `e\.md` is included here/;

describeEachDatabase('include bombs through GitHub', (database) => {
  let github: GitHubEmulator;
  let running: RunningEmulator;
  let app: WebhookApp;
  let guildSeq = 0;

  beforeAll(async () => {
    const clock = new ManualClock(Date.parse('2026-11-03T09:00:00Z'));
    github = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
    running = await github.start();
    app = await startWebhookApp(database().handle, { apiUrl: running.baseUrl, clock });
  });
  afterAll(async () => {
    await app.close();
    await running.close();
  });
  afterEach(async () => {
    await app.webhooks.drain();
    await app.engine.settle();
  });

  it('/prompt-config set of the bomb repo reports the refusal with file:line and serves the rest of it', async () => {
    const sha = github.createRepo('acme/bomb-set', { files: includeBombRepo() });
    const guildId = `bomb${++guildSeq}`;
    const inspected = await app.engine.inspect({ guildId, repoUrl: 'https://github.com/acme/bomb-set' });
    if (!inspected.ok) throw new Error(inspected.message);
    expect(inspected.report.commit).toBe(sha);
    const shown = inspected.report.problems.map(formatProblem);
    expect(shown.some((line) => REFUSAL.test(line))).toBe(true);
    expect(shown).toContain(
      'summaries/global.md:1:1: includes `a.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
    );
    await app.engine.saveConfig({ ...inspected.config, actorId: 'admin' });

    const r = await app.engine.resolver.resolve(guildId, ctx);
    expect(r).toMatchObject({ level: 'custom', repo: 'acme/bomb-set', commit: sha, path: 'prompts/default.md' });
    expect(r.tried[0]).toBe('summaries/global.md');
    expect(r.content).toMatch(/^Summarize #general for general readers\./);
  });

  it('a signed push of the bomb is refused file by file; the service keeps serving and recovers on the next push', async () => {
    github.createRepo('acme/bomb-push', { files: promptRepoFiles('GOOD') });
    const guildId = `bomb${++guildSeq}`;
    const inspected = await app.engine.inspect({ guildId, repoUrl: 'https://github.com/acme/bomb-push' });
    if (!inspected.ok) throw new Error(inspected.message);
    await app.engine.saveConfig({ ...inspected.config, actorId: 'admin' });
    expect((await app.engine.resolver.resolve(guildId, ctx)).content).toContain('GOOD');

    const bomb = github.push('acme/bomb-push', 'main', includeBombRepo());
    expect((await postWebhook(app.url, { event: 'push', body: pushPayload('acme/bomb-push', { after: bomb }) })).status).toBe(202);
    await app.webhooks.drain();
    const served = await app.engine.resolver.resolve(guildId, ctx);
    expect(served).toMatchObject({ level: 'custom', commit: bomb, path: 'prompts/default.md' });
    expect(served.content).toMatch(/^Summarize #general for general readers\./);

    const report = await app.engine.refresh(guildId);
    expect(report?.problems.map(formatProblem).some((line) => REFUSAL.test(line))).toBe(true);

    const good = github.push('acme/bomb-push', 'main', promptRepoFiles('FIXED'));
    expect((await postWebhook(app.url, { event: 'push', body: pushPayload('acme/bomb-push', { after: good }) })).status).toBe(202);
    await app.webhooks.drain();
    const fixed = await app.engine.resolver.resolve(guildId, ctx);
    expect(fixed).toMatchObject({ level: 'custom', commit: good });
    expect(fixed.content).toContain('FIXED');
  });
});

/**
 * A repo event that names guilds (what a per-config webhook publishes)
 * reaches only those guilds' configs and snapshots in the other processes:
 * one guild's webhook cannot make other processes drop or refetch another
 * guild's snapshot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MAX_EVENT_GUILDS } from '../../src/invalidation/events.ts';
import { ManualClock } from '../../src/resilience/clock.ts';
import { GitHubEmulator, type RunningEmulator } from '../emulators/github/server.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { buildEngine, promptRepoFiles, type EngineUnderTest } from '../prompts/engine-helpers.ts';

const ctx = { category: 'discussion', channel_name: 'general', type: 'brief', guild_name: 'Acme' };

describeEachDatabase('guild-scoped repo events', (database) => {
  let github: GitHubEmulator;
  let running: RunningEmulator;
  let clock: ManualClock;
  let under: EngineUnderTest;

  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2026-11-04T08:00:00Z'));
    github = new GitHubEmulator({ clock, quota: { anonymous: 100_000, authenticated: 100_000 } });
    running = await github.start();
    under = await buildEngine(database().handle, { apiUrl: running.baseUrl, clock });
  });
  afterAll(async () => {
    await under.engine.settle();
    await running.close();
  });

  async function configure(guildId: string, branch: string): Promise<string> {
    const inspected = await under.engine.inspect({ guildId, repoUrl: 'https://github.com/acme/scoped', branch });
    if (!inspected.ok) throw new Error(inspected.message);
    await under.engine.saveConfig({ ...inspected.config, actorId: 'admin' });
    return guildId;
  }
  const held = async (guildId: string) => (await under.engine.heldSnapshot(guildId))?.parsed;

  it('expires only the named guilds’ snapshots; the event without guilds still expires the whole repository', async () => {
    github.createRepo('acme/scoped', { files: promptRepoFiles('MAIN') });
    github.push('acme/scoped', 'dev', promptRepoFiles('DEV'));
    const hooked = await configure('scoped-a', 'main');
    const bystander = await configure('scoped-b', 'dev');
    await under.engine.resolver.resolve('scoped-a', ctx);
    await under.engine.resolver.resolve('scoped-b', ctx);
    const bystanderBefore = await held(bystander);
    expect(bystanderBefore).toBeTruthy();
    github.resetStats();

    await under.engine.applyRemote({ kind: 'repo', owner: 'acme', repo: 'scoped', guilds: ['scoped-a'] });
    await under.engine.settle();
    // The bystander's snapshot is the same object, still fresh; the named guild's was revalidated.
    expect(await held(bystander)).toBe(bystanderBefore);
    expect((await under.engine.status(bystander)).level).toBe('custom');
    const restricted = github.count();
    expect(restricted).toBeGreaterThan(0);
    expect(await held(hooked)).toBeTruthy();

    // Without guilds (the operator's webhook), both branches' snapshots are revalidated: twice the requests.
    github.resetStats();
    await under.engine.applyRemote({ kind: 'repo', owner: 'acme', repo: 'scoped' });
    await under.engine.settle();
    expect(github.count()).toBe(2 * restricted);
  });

  it('encodes at most MAX_EVENT_GUILDS guild ids per message, and refuses more', () => {
    const guilds = Array.from({ length: MAX_EVENT_GUILDS }, (_, i) => `1${String(i).padStart(18, '0')}`);
    const encoded = encodeMessage('proc-1', { kind: 'repo', owner: 'acme', repo: 'scoped', ref: 'main', commit: 'a'.repeat(40), guilds });
    expect(decodeMessage(encoded)).toMatchObject({ ok: true, message: { event: { guilds } } });
    expect(() => encodeMessage('proc-1', { kind: 'repo', owner: 'acme', repo: 'scoped', guilds: [...guilds, '9'.repeat(19)] })).toThrow();
    expect(decodeMessage(encoded.replace('"guilds":["', '"guilds":["bad id", "')).ok).toBe(false);
  });
});

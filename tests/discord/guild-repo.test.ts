/**
 * /summarize with a guild's own prompt repository (served by the GitHub
 * emulator) and with a per-member rate limit in the router: the footer names
 * the repository, commit and path; autocomplete offers what the repository
 * routes; a member over the limit learns when to try again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import { GitHubEmulator } from '../emulators/github/server.ts';
import type { ApiMessage, InteractionHandle } from '../emulators/discord/server.ts';
import { EPHEMERAL, startInProcessBot, type InProcessBot } from './support.ts';

const PATH = `version: v2
routes:
  rituals:
    path: "prompts/rituals/{type}.md"
    when:
      type: [standup, retro]
  by_category: "prompts/{category}/{type}.md"
  global: "prompts/default.md"
variables:
  perspective: general
`;

let database: DatabaseHandle;
let github: GitHubEmulator;
let harness: InProcessBot;
let sha = '';

beforeAll(async () => {
  database = await createPgliteDatabase();
  github = new GitHubEmulator({ quota: { anonymous: 10_000, authenticated: 10_000 } });
  const { baseUrl } = await github.start();
  sha = github.createRepo('acme/prompts', {
    files: {
      PATH,
      'prompts/default.md': 'Summarize {channel} for {perspective} readers.\n{messages}\n',
      'prompts/rituals/standup.md': 'Standup notes: who did what, blockers.\n{messages}\n',
      'prompts/discussion/brief.md': 'Brief: decisions and open questions in {channel}.\n{messages}\n',
    },
  })!;
  harness = await startInProcessBot({
    database,
    provider: new EchoProvider('echo', 'echo-large', 100_000),
    githubApiUrl: baseUrl,
    // Two summaries per member, then one more every ten minutes.
    userRate: { capacity: 2, refillPerSecond: 1 / 600 },
  });
  const inspected = await harness.services.prompts.inspect({ guildId: harness.world.guild.id, repoUrl: 'https://github.com/acme/prompts' });
  if (!inspected.ok) throw new Error(inspected.message);
  await harness.services.prompts.saveConfig({ ...inspected.config, actorId: 'admin' });
});

afterAll(async () => {
  await harness?.close();
  await github?.close();
  await database?.close();
});

function summarize(userId: string, options: Record<string, string>): InteractionHandle {
  const { discord, world } = harness;
  const channel = discord.addChannel(world.guild.id, { kind: 'text', name: `repo-${Math.random().toString(36).slice(2, 8)}` });
  discord.seedMessages(channel.id, [
    { authorId: world.alice.id, content: 'Yesterday: fixed the login bug' },
    { authorId: world.bob.id, content: 'Today: reviewing the cache change' },
  ]);
  return discord.sendInteraction({ type: 'command', name: 'summarize', userId, channelId: channel.id, options });
}

async function footerOf(handle: InteractionHandle): Promise<string> {
  const message = await handle.waitFor((h) => h.followUps.map((f) => f.message).find((m: ApiMessage) => m.embeds.some((e) => e.footer)), 10_000, 'the summary');
  return message.embeds.find((e) => e.footer)!.footer!.text;
}

describe('/summarize with a guild repository', () => {
  it('names the repository, commit and path in the footer', async () => {
    expect(await footerOf(summarize(harness.world.alice.id, {}))).toContain(`Prompt acme/prompts@${sha.slice(0, 7)}:prompts/discussion/brief.md · echo/echo-large`);
    expect(await footerOf(summarize(harness.world.alice.id, { type: 'standup' }))).toContain(`Prompt acme/prompts@${sha.slice(0, 7)}:prompts/rituals/standup.md`);
  });

  it('offers the types the repository routes, with the defaults', async () => {
    const handle = harness.discord.sendInteraction({ type: 'autocomplete', name: 'summarize', userId: harness.world.bob.id, channelId: harness.world.general.id, focused: 'type', options: { type: '' } });
    const values = (await handle.waitForChoices()).map((c) => String(c['value']));
    expect(values).toEqual(expect.arrayContaining(['standup', 'retro', 'brief', 'detailed', 'comprehensive', 'action_items']));
    expect(values.indexOf('retro')).toBeLessThan(values.indexOf('comprehensive'));
    const typed = harness.discord.sendInteraction({ type: 'autocomplete', name: 'summarize', userId: harness.world.bob.id, channelId: harness.world.general.id, focused: 'type', options: { type: 're' } });
    expect((await typed.waitForChoices()).map((c) => String(c['value']))).toEqual(['retro', 'comprehensive']);
  });

  it('tells a member over the rate limit when to try again', async () => {
    // Alice used her two summaries above.
    const handle = summarize(harness.world.alice.id, { type: 'detailed' });
    const refused = await handle.waitForFinal((m) => m.content.includes('(ref `'), 10_000);
    expect(refused.flags & EPHEMERAL).toBe(EPHEMERAL);
    const match = /^You're sending requests faster than allowed; try again <t:(\d+):R>\. \(ref `[0-9a-f]{8}`\)$/.exec(refused.content);
    expect(match).not.toBeNull();
    const at = Number(match![1]) * 1000;
    expect(at).toBeGreaterThan(Date.now());
    expect(at).toBeLessThanOrEqual(Date.now() + 601_000);
    // Bob has his own allowance.
    expect(await footerOf(summarize(harness.world.bob.id, {}))).toContain('Prompt acme/prompts@');
  });
});

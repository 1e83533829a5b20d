/**
 * /prompt-config github-app end to end: the real bot process, the Discord
 * and GitHub emulators, and a browser's trip through GitHub's install flow
 * back to the bot's setup URL. The steps build on each other, in order.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPHEMERAL, messageText as text } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

const APP_ID = 77;
const CLIENT = { clientId: 'Iv23liE2eClient', clientSecret: 'e2e-client-secret-9f8e7d6c5b4a' };
const FILES = {
  PATH: 'version: v1\nroutes:\n  global_default: "prompts/default.md"\n',
  'prompts/default.md': 'PRIVATE-ACME prompt for {channel}.\n{messages}\n',
};

let e2e: E2E;
let adminId: string;
let installation: number;
let installLink: URL;

describe('GitHub App install flow (e2e)', () => {
  beforeAll(async () => {
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    e2e = await startE2E({
      env: {
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_APP_PRIVATE_KEY: privateKey,
        GITHUB_APP_SLUG: 'recap-e2e',
        GITHUB_APP_CLIENT_ID: CLIENT.clientId,
        GITHUB_APP_CLIENT_SECRET: CLIENT.clientSecret,
        PUBLIC_URL: 'https://recap.example.com',
      },
    });
    adminId = e2e.world.admin.id;
    e2e.github.registerAppClient(APP_ID, CLIENT);
    e2e.github.createRepo('acme/private-prompts', { private: true, files: FILES });
    installation = e2e.github.installApp(APP_ID, ['acme/private-prompts'], { account: 'acme' });
    e2e.github.setOrgRole('acme', 'acme-owner', 'admin');
  }, 90_000);
  afterAll(async () => {
    await e2e?.close();
  });

  it('does not read a private repository through an installation nobody linked to the server', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/private-prompts' } });
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.embeds[0]?.title).toBe('acme/private-prompts@main could not be read: not saved');
    expect(text(reply)).toContain('/prompt-config github-app');
    expect(text(reply)).not.toContain('PRIVATE-ACME');
    expect(e2e.github.installationTokensMinted).toBe(0);
  });

  it('hands an admin a one-time install link for this server, privately', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'github-app' });
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    const match = /\((http[^)\s]+\/apps\/recap-e2e\/installations\/new\?state=[^)\s]+)\)/.exec(reply.content);
    expect(match, reply.content).not.toBeNull();
    installLink = new URL(match![1]!);
    expect(installLink.origin).toBe(e2e.github.baseUrl);
    expect(reply.content).toContain('No installation is linked to this server yet.');
  });

  it('links the installation when an owner of the organization completes the link', async () => {
    const setup = `${e2e.bot.httpUrl}/github/setup`;
    const state = installLink.searchParams.get('state') as string;
    const redirect = e2e.github.installRedirect(setup, { clientId: CLIENT.clientId, login: 'acme-owner', installationId: installation, state });
    const response = await fetch(redirect);
    const page = await response.text();
    // Neither the state nor GitHub's one-time code is written to the log.
    const code = new URL(redirect).searchParams.get('code') as string;
    expect(e2e.bot.lines.filter((l) => l.raw.includes(state) || l.raw.includes(code))).toEqual([]);
    expect(response.status, page).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page).toContain(`Installation ${installation} on the GitHub organization acme is now linked to the Discord server ${e2e.world.guild.id}, approved by acme-owner.`);

    // The same link again: used up.
    const replay = await fetch(e2e.github.installRedirect(setup, { clientId: CLIENT.clientId, login: 'acme-owner', installationId: installation, state }));
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('used already');

    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'github-app' });
    expect(reply.content).toContain(`\`${installation}\` on organization \`acme\`, approved by \`acme-owner\``);
  });

  it('reads the private repository through the linked installation', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/private-prompts' } });
    expect(reply.embeds[0]?.title, text(reply)).toBe('Saved acme/private-prompts@main');
    expect(e2e.github.installationTokensMinted).toBeGreaterThan(0);
  });

  it('unlinks on request, and keeps secrets out of everything the bot said', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'github-app', options: { unlink: String(installation) } });
    expect(reply.content).toContain(`Installation ${installation} is no longer linked to this server`);
    const again = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'github-app', options: { unlink: String(installation) } });
    expect(again.reply.content).toContain('is not linked to this server');

    expect(e2e.leaksOf(CLIENT.clientSecret)).toEqual([]);
    expect(e2e.github.userTokensIssued).toHaveLength(1);
    for (const token of e2e.github.userTokensIssued) expect(e2e.leaksOf(token)).toEqual([]);
    expect(e2e.unanswered()).toEqual([]);
    const linkLog = e2e.bot.lines.find((l) => l.msg === 'GitHub App installation linked to a guild');
    expect(linkLog?.json).toMatchObject({ installation, account: 'acme', githubUser: 'acme-owner', guild: e2e.world.guild.id });
  });
});

/**
 * Summary history and admin notices end to end: the real bot process against
 * the Discord and GitHub emulators. Members see only summaries of channels
 * they can read now; a summary whose message is deleted in Discord (one by
 * one or in bulk) leaves history. Admin notices show in the status views
 * until a notices channel is set, then reach it: a push failing validation
 * (with file:line links), the repository unreachable and back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMessage, StoredChannel } from '../emulators/discord/server.ts';
import { promptRepoFiles } from '../prompts/engine-helpers.ts';
import { EPHEMERAL, messageText, summaryOf, WAIT_MS } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

const REPO = 'acme/prompts';
const BROKEN_PATH = 'version: v2\nroutes:\n  main: "prompts/{category}.md"\n  main: "prompts/other.md"\n';

let e2e: E2E;
let botAdmin: StoredChannel;

beforeAll(async () => {
  e2e = await startE2E({
    setup: (discord, world) => {
      botAdmin = discord.addChannel(world.guild.id, {
        kind: 'text',
        name: 'bot-admin',
        overwrites: [
          { id: world.guild.id, type: 'role', deny: ['ViewChannel'] },
          { id: discord.bot.id, type: 'member', allow: ['ViewChannel', 'SendMessages'] },
        ],
      });
    },
  });
  e2e.github.createRepo(REPO, { files: promptRepoFiles('H') });
}, 90_000);

afterAll(async () => {
  await e2e?.close();
});

async function listAs(userId: string, options: Record<string, string | number> = {}): Promise<ApiMessage> {
  const { reply } = await e2e.runCommand(userId, 'summaries', { subcommand: 'list', options }, WAIT_MS);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return reply;
}

/** The 8-character id the list shows for the summary of `channelId`. */
function idIn(list: ApiMessage, channelId: string): string {
  const id = new RegExp(`\`([0-9a-f]{8})\` <#${channelId}>`).exec(list.embeds[0]?.description ?? '')?.[1];
  if (id === undefined) throw new Error(`no summary of ${channelId} in ${messageText(list)}`);
  return id;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('summary history', () => {
  let generalPosts: ApiMessage[];
  let staffPosts: ApiMessage[];

  it('records where summaries were posted; a member lists those of channels they can read, with link, prompt, model and cost', async () => {
    const { world, discord } = e2e;
    discord.seedMessages(world.general.id, [
      { authorId: world.member.id, content: 'Decision: we ship the release on Friday.' },
      { authorId: world.admin.id, content: 'The changelog still needs the Node 20 note.' },
    ]);
    discord.seedMessages(world.staff.id, [
      { authorId: world.admin.id, content: 'Decision: the salary review moves to March.' },
      { authorId: world.member.id, content: 'I will tell the team leads tomorrow.' },
    ]);
    generalPosts = await summaryOf(e2e.command(world.member.id, 'summarize'));
    staffPosts = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: world.staff.id }));
    expect([...generalPosts, ...staffPosts].every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);

    const member = await listAs(world.member.id);
    const description = member.embeds[0]?.description ?? '';
    expect(description).toContain(`[posted](https://discord.com/channels/${world.guild.id}/${world.general.id}/${generalPosts[0]!.id})`);
    expect(description).toContain(`[posted](https://discord.com/channels/${world.guild.id}/${world.staff.id}/${staffPosts[0]!.id})`);
    expect(description).toMatch(/Prompt bundled:summaries\/discussion\/brief\.md · local\/[\w.-]+ · 2 messages · 1 chunk · \$0/);
    expect(member.embeds[0]?.footer?.text).toMatch(/^Page 1 of 1 · 2 summaries/);

    const restricted = await listAs(world.restricted.id);
    expect(restricted.embeds[0]?.description).toContain(`<#${world.general.id}>`);
    expect(restricted.embeds[0]?.description).not.toContain(`<#${world.staff.id}>`);
    expect(restricted.embeds[0]?.footer?.text).toMatch(/· 1 summary/);
  });

  it('show: the summary with its footer for a reader; refused, revealing nothing, for someone who cannot read the channel now', async () => {
    const { world } = e2e;
    const staffId = idIn(await listAs(world.member.id), world.staff.id);
    const { reply: refused } = await e2e.runCommand(world.restricted.id, 'summaries', { subcommand: 'show', options: { id: staffId } }, WAIT_MS);
    expect(refused.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(refused.content).toContain(`I found no summary \`${staffId}\` of a channel you can read now.`);
    expect(messageText(refused)).not.toContain('salary');

    const { reply: shown } = await e2e.runCommand(world.member.id, 'summaries', { subcommand: 'show', options: { id: staffId } }, WAIT_MS);
    expect(shown.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(shown.embeds[0]?.title).toBe('Brief summary of #staff');
    expect(messageText(shown)).toContain('salary review');
    expect(shown.embeds.at(-1)?.footer?.text).toMatch(new RegExp(`^${staffId} · made .* · Prompt bundled:summaries/discussion/brief\\.md · local/`));
    expect(shown.content).toContain(`https://discord.com/channels/${world.guild.id}/${world.staff.id}/${staffPosts[0]!.id}`);

    const { reply: channelRefused } = await e2e.runCommand(world.restricted.id, 'summaries', { subcommand: 'list', options: { channel: world.staff.id } }, WAIT_MS);
    expect(channelRefused.content).toContain(`You can't read <#${world.staff.id}> now`);
  });

  it('deleting a summary message in Discord removes the summary from history, one by one or in bulk', async () => {
    const { world, discord } = e2e;
    discord.deleteMessages(world.general.id, [generalPosts[0]!.id]);
    await until(async () => {
      const list = await listAs(world.member.id);
      return list.embeds[0]?.description?.includes(`<#${world.general.id}>`) === false ? list : undefined;
    }, 'the general summary to leave history');

    const [other] = discord.seedMessages(world.staff.id, [{ authorId: world.member.id, content: 'unrelated' }]);
    discord.deleteMessages(world.staff.id, [other!.id, staffPosts[0]!.id], { bulk: true });
    const empty = await until(async () => {
      const list = await listAs(world.member.id);
      return list.content.startsWith('No summaries') ? list : undefined;
    }, 'history to be empty');
    expect(empty.content).toBe('No summaries of channels you can read.');
  });
});

describe('admin notices', () => {
  let adminId: string;

  beforeAll(async () => {
    adminId = e2e.world.admin.id;
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: REPO } }, WAIT_MS);
    expect(reply.embeds[0]?.title).toBe(`Saved ${REPO}@main`);
  });

  it('without a notices channel, a push failing validation shows in /prompt-config status and /ai-config status', async () => {
    e2e.github.push(REPO, 'main', { changes: { PATH: BROKEN_PATH } });
    await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' }, WAIT_MS);
    for (const command of ['prompt-config', 'ai-config']) {
      const handle = e2e.command(adminId, command, { subcommand: 'status' });
      const notices = await handle.waitForFollowUp((m) => m.embeds[0]?.title === 'Admin notices', WAIT_MS);
      expect(notices.flags & EPHEMERAL).toBe(EPHEMERAL);
      const text = notices.embeds[0]?.description ?? '';
      expect(text).toContain('No notices channel is set');
      expect(text).toMatch(/Commit [0-9a-f]{7} of acme/);
      expect(text).toContain('failed validation');
    }
    expect(e2e.discord.botMessages.filter((m) => m.channel_id === botAdmin.id)).toEqual([]);
  });

  it('an admin picks the notices channel', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'notices', options: { channel: botAdmin.id } }, WAIT_MS);
    expect(reply.content).toBe(`Admin notices go to <#${botAdmin.id}> now.`);
  });

  it('the repository unreachable, then back, then a new push failing validation with file:line links: each reaches the channel', async () => {
    const { github, discord } = e2e;
    const inChannel = (pattern: RegExp) => discord.waitForBotMessage((m) => m.channel_id === botAdmin.id && pattern.test(m.content), WAIT_MS);

    github.setPrivate(REPO, true);
    await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' }, WAIT_MS);
    const gone = await inChannel(/unreachable/);
    expect(gone.content).toContain('The prompt repository acme/prompts is unreachable (GitHub answered 404)');

    github.setPrivate(REPO, false);
    await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' }, WAIT_MS);
    const back = await inChannel(/reachable again/);
    // It came back at the commit that failed validation: said, and that commit's notice was already given this hour.
    expect(back.content).toContain('fails validation');

    github.push(REPO, 'main', { changes: { PATH: `${BROKEN_PATH}# again\n` } });
    const head = github.head(REPO, 'main');
    await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' }, WAIT_MS);
    const invalid = await inChannel(new RegExp(`Commit ${head.slice(0, 7)} of acme/prompts`));
    expect(invalid.content).toContain(`PATH:4:3: repeats the key`);
    expect(invalid.content).toContain(`<https://github.com/acme/prompts/blob/${head}/PATH#L4>`);
    const posted = discord.requests.filter((r) => r.route === 'POST /channels/:channelId/messages' && r.path.includes(botAdmin.id));
    expect(posted.every((r) => JSON.stringify((r.body as { allowed_mentions?: unknown }).allowed_mentions) === '{"parse":[]}')).toBe(true);

    // The same commit refreshed again is no new notice.
    const before = discord.botMessages.filter((m) => m.channel_id === botAdmin.id).length;
    await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' }, WAIT_MS);
    expect(discord.botMessages.filter((m) => m.channel_id === botAdmin.id)).toHaveLength(before);
    expect(e2e.unanswered()).toEqual([]);
  });
});

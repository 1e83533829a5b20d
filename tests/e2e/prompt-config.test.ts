/**
 * /prompt-config end to end: the real bot process against the Discord and
 * GitHub emulators, driven only as members would (commands, buttons, a
 * modal, autocomplete). The steps build on each other, in order.
 */
import { PermissionFlagsBits } from 'discord.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMessage } from '../emulators/discord/server.ts';
import { EPHEMERAL, field, privateReply, WAIT_MS } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

const PATH_V2 = `version: v2
routes:
  standup:
    path: "prompts/standup/{type}.md"
    when:
      category: [standup, daily]
  by_category: "prompts/{category}/{type}.md"
  global: "prompts/default.md"
variables:
  perspective: general
`;

const LONG_BODY = Array.from({ length: 120 }, (_, i) => `- point ${i + 1}: keep every decision, owner and date for {channel}.`).join('\n');

const VALID_FILES = {
  PATH: PATH_V2,
  'schema-version': 'v2\n',
  'prompts/default.md': '---\nmodel: claude-e2e\ntemperature: 0.2\n---\nSummarize #{channel} in {guild} for a {perspective} reader.\nNever write @everyone.\n{messages}\n',
  'prompts/discussion/brief.md': 'Brief discussion summary of {channel}.\n{messages}\n',
  'prompts/meeting/detailed.md': `Detailed meeting notes.\n${LONG_BODY}\n{messages}\n`,
  'prompts/standup/brief.md': 'Standup: who did what, blockers.\n{messages}\n',
  'README.md': '# not a prompt\n',
};

const BROKEN_PATH = 'version: v2\nroutes:\n  main: "prompts/{category}.md"\n  main: "prompts/other.md"\n';

const PRIVATE_TOKEN = `github_pat_${'A1b2C3d4'.repeat(6)}`;
const SECOND_TOKEN = `ghp_${'Zy9Xw8Vu7'.repeat(4)}`;

let e2e: E2E;
let adminId: string;
let memberId: string;
let validHead: string;

function buttonId(message: ApiMessage, label: string): string {
  const button = e2e.buttonsOf(message).find((b) => b.label.startsWith(label));
  if (button === undefined) throw new Error(`no button "${label}" on ${JSON.stringify(message.components)}`);
  return button.customId;
}

describe('/prompt-config end to end', () => {
  beforeAll(async () => {
    e2e = await startE2E();
    adminId = e2e.world.admin.id;
    memberId = e2e.world.member.id;
    validHead = e2e.github.createRepo('acme/prompts', { files: VALID_FILES })!;
    e2e.github.createRepo('acme/broken', { files: { PATH: BROKEN_PATH, 'prompts/other.md': 'Other {category}\n' } });
    e2e.github.createRepo('acme/private', {
      private: true,
      tokens: [PRIVATE_TOKEN],
      files: { PATH: 'prompts/{category}.md\nprompts/default.md\n', 'prompts/default.md': 'Private prompt for {channel}.\n{messages}\n' },
    });
  }, 60_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('registers /prompt-config for Manage Server, in servers only', () => {
    const registered = e2e.discord.commands.list(e2e.world.guild.id).find((c) => c['name'] === 'prompt-config');
    expect(registered?.['default_member_permissions']).toBe(PermissionFlagsBits.ManageGuild.toString());
    expect(registered?.['contexts']).toEqual([0]);
  });

  it('refuses members without Manage Server at run time, for commands and crafted modal submits', async () => {
    // The emulator does not apply default_member_permissions (Discord's client would hide the
    // command), so these reach the bot: exactly the case the runtime check exists for.
    await privateReply(
      e2e.command(memberId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/prompts' } }),
      /Manage Server/,
    );
    await privateReply(e2e.command(memberId, 'prompt-config', { subcommand: 'status' }), /Manage Server/);
    const crafted = e2e.submitModal(memberId, { customId: 'prompt-config:token' }, { token: SECOND_TOKEN });
    await privateReply(crafted, /Manage Server/);
  });

  it('sets a valid repository: report with routes and files, saved', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', {
      subcommand: 'set',
      options: { repo_url: 'https://github.com/acme/prompts.git/' },
    });
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.embeds[0]?.title).toBe('Saved acme/prompts@main');
    expect(field(reply, 'Commit')).toContain(validHead.slice(0, 7));
    expect(field(reply, 'Schema')).toContain('v2');
    const routes = field(reply, 'Routes');
    expect(routes).toContain('by_category → prompts/{category}/{type}.md');
    expect(routes).toContain('standup → prompts/standup/{type}.md');
    const files = field(reply, 'Files found');
    expect(files).toContain('4 prompt files');
    expect(files).toContain('prompts/meeting/detailed.md');
    expect(e2e.buttonsOf(reply)).toEqual([]);
  });

  it('test: level custom, path, every tried path, commit and the rendered prompt', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', {
      subcommand: 'test',
      options: { category: 'meeting', perspective: 'developer' },
    });
    expect(reply.embeds[0]?.title).toBe('Prompt resolution: level custom');
    expect(field(reply, 'Source')).toContain('acme/prompts@main');
    expect(field(reply, 'Commit')).toContain(validHead.slice(0, 7));
    expect(field(reply, 'Path')).toContain('prompts/default.md');
    const tried = field(reply, 'Paths tried');
    for (const path of ['prompts/meeting/brief.md', 'prompts/meeting/default.md', 'prompts/default/default.md', 'prompts/default.md']) {
      expect(tried).toContain(path);
    }
    expect(tried.indexOf('prompts/meeting/brief.md')).toBeLessThan(tried.indexOf('prompts/default.md'));
    expect(field(reply, 'Model parameters')).toContain('model = claude-e2e');
    // Rendered: channel, guild and perspective substituted; short enough to show inline.
    expect(reply.content).toContain('Summarize #general in e2e-guild for a developer reader.');
    // Text from the repository never pings anyone.
    expect(reply.content).toContain('@everyone');
    expect(reply.mention_everyone).toBe(false);
    expect(reply.attachments).toEqual([]);
  });

  it('test: a long rendered prompt comes as prompt.md; the channel option is used', async () => {
    const handle = e2e.command(adminId, 'prompt-config', {
      subcommand: 'test',
      options: { category: 'meeting', type: 'detailed', channel: e2e.world.thread.id },
    });
    const reply = await handle.waitForFinal(() => true, WAIT_MS);
    expect(field(reply, 'Path')).toContain('prompts/meeting/detailed.md');
    expect(reply.content).toContain('prompt.md');
    const file = handle.files.find((f) => f.filename === 'prompt.md');
    expect(file).toBeDefined();
    const text = file!.content.toString('utf8');
    expect(text.length).toBeGreaterThan(2_000);
    expect(text).toContain('point 120: keep every decision, owner and date for planning.');
  });

  it('autocomplete offers what the repository routes, merged with the defaults', async () => {
    const categories = await e2e.autocomplete(adminId, 'prompt-config', { subcommand: 'test', focused: 'category', options: { category: 'd' } });
    expect(categories).toContain('daily'); // from the standup route's `when`
    expect(categories).toContain('discussion');
    expect(categories.every((c) => c.includes('d'))).toBe(true);
    const all = await e2e.autocomplete(adminId, 'prompt-config', { subcommand: 'test', focused: 'category' });
    expect(all).toEqual(expect.arrayContaining(['standup', 'meeting', 'discussion', 'moderation', 'chat']));
    const types = await e2e.autocomplete(adminId, 'prompt-config', { subcommand: 'test', focused: 'type' });
    expect(types).toEqual(expect.arrayContaining(['brief', 'detailed', 'comprehensive', 'action_items']));
    expect(types.length).toBeLessThanOrEqual(25);
    const denied = await e2e.autocomplete(memberId, 'prompt-config', { subcommand: 'test', focused: 'category' });
    expect(denied).toEqual([]);
  });

  it('status: commit, level, last sync and no token', async () => {
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
    expect(reply.embeds[0]?.title).toBe('acme/prompts@main');
    expect(reply.embeds[0]?.description).toContain('**custom**');
    expect(field(reply, 'Current commit')).toContain(validHead.slice(0, 7));
    expect(field(reply, 'Last sync')).toMatch(/^ok at <t:\d+:f>/);
    expect(field(reply, 'Token')).toContain('not set');
    expect(field(reply, 'Errors')).toBe('none');
  });

  it('refresh after a push reports the new commit', async () => {
    const pushed = e2e.github.push('acme/prompts', 'main', { changes: { 'prompts/meeting/brief.md': 'Meeting brief for {channel}.\n{messages}\n' } });
    const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' });
    expect(reply.embeds[0]?.title).toBe('Refreshed acme/prompts@main');
    expect(reply.embeds[0]?.description).toContain(`New commit \`${pushed.slice(0, 7)}\` (was \`${validHead.slice(0, 7)}\`)`);
    expect(field(reply, 'Files found')).toContain('5 prompt files');
    const { reply: test } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'test', options: { category: 'meeting' } });
    expect(field(test, 'Path')).toContain('prompts/meeting/brief.md');
    expect(field(test, 'Commit')).toContain(pushed.slice(0, 7));
    validHead = pushed;
  });

  it('refresh during a 503 says GitHub answered 503 and which cached copy still serves; status records it as failed', async () => {
    e2e.github.fault({ route: 'commit', repo: 'acme/prompts', kind: 'status', status: 503 });
    try {
      const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' });
      expect(reply.embeds[0]?.title).toBe('Could not refresh acme/prompts@main');
      expect(reply.embeds[0]?.description).toMatch(
        new RegExp(`^GitHub answered 503; still serving \`acme/prompts@${validHead.slice(0, 7)}\` from a cached copy \\d+ (s|min) old\\.`),
      );
      expect(reply.embeds[0]?.description).not.toMatch(/Unchanged|Refreshed/);
      const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
      expect(field(status, 'Last sync')).toMatch(/^failed at <t:\d+:f>/);
      expect(field(status, 'Errors')).toContain('GitHub answered 503; still serving acme/prompts@');
      // The copy was confirmed by GitHub within the TTL, so requests still get it as fresh.
      expect(status.embeds[0]?.description).toContain('**custom**');
    } finally {
      e2e.github.clearFaults();
    }
  });

  it('a repository that answers 404: refresh says the bundled prompts serve, set against it fails, and access coming back serves it again', async () => {
    e2e.github.setPrivate('acme/prompts', true);
    try {
      const { reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' });
      expect(reply.embeds[0]?.title).toBe('Could not refresh acme/prompts@main');
      expect(reply.embeds[0]?.description).toMatch(
        /^GitHub answered 404 for acme\/prompts: the repository or branch is gone, or these credentials cannot see it\. If it is private, add a token with read access\. The bundled prompts serve instead\./,
      );
      const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
      expect(status.embeds[0]?.description).toContain('**default**');
      expect(field(status, 'Last sync')).toMatch(/^denied at/);
      expect(field(status, 'Repository events')).toMatch(/GitHub has answered 404 since <t:\d+:f>/);
      const { reply: test } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'test' });
      expect(test.embeds[0]?.title).toBe('Prompt resolution: level default');

      const { handle, reply: set } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/prompts' } });
      expect(set.embeds[0]?.title).toBe('acme/prompts@main could not be read: not saved');
      expect(set.embeds[0]?.description).toMatch(/^GitHub answered 404 for acme\/prompts/);
      expect(set.content).toContain('/prompt-config token');
      const cancelled = await e2e.click(adminId, handle, buttonId(set, 'Cancel')).waitForFinal(() => true, WAIT_MS);
      expect(cancelled.content).toContain('Cancelled: nothing was saved.');
    } finally {
      e2e.github.setPrivate('acme/prompts', false);
    }
    const { reply: back } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' });
    expect(back.embeds[0]?.title).toBe('Refreshed acme/prompts@main');
    expect(back.embeds[0]?.description).toContain(`Unchanged: GitHub confirmed commit \`${validHead.slice(0, 7)}\` is still the newest.`);
    const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
    expect(status.embeds[0]?.description).toContain('**custom**');
    expect(field(status, 'Last sync')).toMatch(/^ok at/);
    expect(field(status, 'Errors')).toBe('none');
  });

  it('an invalid repository shows file:line:col problems; only the invoker may save it anyway', async () => {
    const { handle, reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/broken' } });
    expect(reply.embeds[0]?.title).toBe('acme/broken@main did not pass validation: not saved');
    expect(reply.embeds[0]?.description).toMatch(/PATH:4:3: repeats the key `main`/);
    const save = buttonId(reply, 'Save anyway');
    const cancel = buttonId(reply, 'Cancel');

    await privateReply(e2e.click(memberId, handle, save), new RegExp(`Only <@${adminId}>`));
    // The refusal changed nothing: the buttons still work for the invoker.
    const cancelled = await e2e.click(adminId, handle, cancel).waitForFinal(() => true, WAIT_MS);
    expect(cancelled.content).toContain('Cancelled: nothing was saved.');
    expect(e2e.buttonsOf(cancelled)).toEqual([]);

    const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
    expect(status.embeds[0]?.title).toBe('acme/prompts@main');
  });

  it('a huge invalid repository: errors first, bounded to Discord limits with "and N more"', async () => {
    const filler = 'x'.repeat(60);
    const routes = Array.from({ length: 400 }, (_, i) => `  r${i}: "prompts/{category}/${filler}-${i}.md"`);
    const files: Record<string, string> = {
      PATH: `version: v1\nroutes:\n${routes.join('\n')}\n  global: "prompts/default.md"\n`,
      'prompts/default.md': '```\n@everyone hostile fence\n',
    };
    for (let i = 0; i < 300; i++) files[`prompts/c${i}/${filler}-${i}.md`] = `uses {unknown_${i}} and {other_${i}}\n`;
    // The one error sorts after every warning's file.
    files[`prompts/zz/${filler}-0.md`] = 'a NUL byte: \u0000\n';
    e2e.github.createRepo('acme/huge', { files });

    const { handle, reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/huge' } });
    const embed = reply.embeds[0]!;
    expect(embed.title).toBe('acme/huge@main did not pass validation: not saved');
    expect(embed.description!.length).toBeLessThanOrEqual(4_096);
    expect(JSON.stringify(reply.embeds).length).toBeLessThan(8_000);
    // Errors first: the block opens with the error, though its file sorts after the warnings'.
    expect(embed.description).toMatch(/^\*\*Problems:\*\* 1 error, \d{3} warnings\n```\nprompts\/zz\/x+-0\.md:1:\d+: contains a NUL byte/);
    expect(embed.description).toMatch(/…and \d+ more problems/);
    const cancelled = await e2e.click(adminId, handle, buttonId(reply, 'Cancel')).waitForFinal(() => true, WAIT_MS);
    expect(cancelled.content).toContain('Cancelled');
  });

  it('a private repository: save anyway, add a token in the modal, refresh reads it', async () => {
    const { handle, reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'set', options: { repo_url: 'acme/private' } });
    expect(reply.embeds[0]?.title).toBe('acme/private@main could not be read: not saved');
    expect(reply.content).toContain('/prompt-config token');
    const saved = await e2e.click(adminId, handle, buttonId(reply, 'Save anyway')).waitForFinal(() => true, WAIT_MS);
    expect(saved.embeds[0]?.title).toBe('Saved acme/private@main anyway: fix it later');

    // A value that is not a token shape is refused without being echoed.
    const badOpen = e2e.command(adminId, 'prompt-config', { subcommand: 'token' });
    await badOpen.waitForModal(WAIT_MS);
    const notAToken = 'this is not a token at all';
    await privateReply(e2e.submitModal(adminId, badOpen, { token: notAToken }), /spaces or line breaks/);
    expect(e2e.leaksOf(notAToken)).toEqual([]);

    const open = e2e.command(adminId, 'prompt-config', { subcommand: 'token' });
    const modal = await open.waitForModal(WAIT_MS);
    expect(modal['custom_id']).toBe('prompt-config:token');
    const submitted = await e2e.submitModal(adminId, open, { token: PRIVATE_TOKEN }).waitForFinal(() => true, WAIT_MS);
    expect(submitted.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(submitted.content).toMatch(/^Token saved \(fine-grained token, encrypted, set at <t:\d+:f>\)\. Run \/prompt-config refresh/);

    const { reply: refreshed } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'refresh' });
    expect(refreshed.embeds[0]?.title).toBe('Refreshed acme/private@main');
    expect(field(refreshed, 'Commit')).toContain(e2e.github.head('acme/private').slice(0, 7));
    expect(e2e.github.requests().some((r) => r.repo === 'acme/private' && r.auth === 'token' && r.status === 200)).toBe(true);

    const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
    expect(status.embeds[0]?.description).toContain('**custom**');
    expect(field(status, 'Token')).toMatch(new RegExp(`^set <t:\\d+:f> .* by <@${adminId}>`));

    const { reply: test } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'test' });
    expect(test.embeds[0]?.title).toBe('Prompt resolution: level custom');
    expect(test.content).toContain('Private prompt for general.');
  });

  it('remove: another member cannot confirm; the invoker removes config and token', async () => {
    const { handle, reply } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'remove' });
    expect(reply.embeds[0]?.description).toContain('acme/private@main');
    expect(reply.embeds[0]?.description).toContain('the stored GitHub token');
    await privateReply(e2e.click(memberId, handle, buttonId(reply, 'Remove')), new RegExp(`Only <@${adminId}>`));
    const removed = await e2e.click(adminId, handle, buttonId(reply, 'Remove')).waitForFinal(() => true, WAIT_MS);
    expect(removed.content).toContain('Removed the prompt repository and the stored token.');

    const { reply: status } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'status' });
    expect(status.embeds[0]?.title).toBe('No prompt repository configured');
    expect(status.embeds[0]?.description).toContain('**default**');
    expect(field(status, 'Token')).toContain('not set');
    const { reply: test } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'test' });
    expect(test.embeds[0]?.title).toBe('Prompt resolution: level default');
  });

  it('stores a token encrypted and never shows it; every interaction was answered; exits cleanly', async () => {
    const open = e2e.command(adminId, 'prompt-config', { subcommand: 'token' });
    await open.waitForModal(WAIT_MS);
    const saved = await e2e.submitModal(adminId, open, { token: SECOND_TOKEN }).waitForFinal(() => true, WAIT_MS);
    expect(saved.content).toContain('Token saved (classic token');
    // token-remove deletes it (and says so when there is nothing to delete); then it is stored again.
    const { reply: removed } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'token-remove' });
    expect(removed.content).toContain('Token removed.');
    const { reply: again } = await e2e.runCommand(adminId, 'prompt-config', { subcommand: 'token-remove' });
    expect(again.content).toContain('No GitHub token is stored');
    const reopen = e2e.command(adminId, 'prompt-config', { subcommand: 'token' });
    await reopen.waitForModal(WAIT_MS);
    await e2e.submitModal(adminId, reopen, { token: SECOND_TOKEN }).waitForFinal(() => true, WAIT_MS);

    expect(e2e.unanswered().map((h) => h.describe())).toEqual([]);
    expect(e2e.discord.internalErrors).toEqual([]);
    await e2e.bot.stop();

    for (const token of [PRIVATE_TOKEN, SECOND_TOKEN]) expect(e2e.leaksOf(token)).toEqual([]);
    expect(e2e.bot.lines.some((l) => l.msg === 'connected to Discord')).toBe(true);
    expect(e2e.bot.linesAtLeast(50).map((l) => l.raw)).toEqual([]);

    const db = await e2e.database.open();
    const secrets = await db.selectFrom('secrets').selectAll().where('guild_id', '=', e2e.world.guild.id).execute();
    expect(secrets).toHaveLength(1);
    const [secret] = secrets;
    expect(secret?.purpose).toBe('github-token');
    expect(secret?.key_id).toBe('e2e');
    const stored = Buffer.from(secret!.ciphertext);
    expect(stored.length).toBeGreaterThanOrEqual(SECOND_TOKEN.length);
    expect(stored.includes(SECOND_TOKEN)).toBe(false);
    const { rows } = await sql<{ hits: number }>`select count(*)::int as hits from secrets where encode(ciphertext, 'escape') like ${`%${SECOND_TOKEN}%`}`.execute(db);
    expect(rows[0]?.hits).toBe(0);

    const audit = await db.selectFrom('audit_log').select(['action', 'actor_id', 'details']).where('guild_id', '=', e2e.world.guild.id).orderBy('created_at').execute();
    expect(audit.map((a) => a.action)).toEqual([
      'prompt-config.set',
      'prompt-config.set',
      'prompt-config.token.set',
      'prompt-config.remove',
      'prompt-config.token.set',
      'prompt-config.token.remove',
      'prompt-config.token.set',
    ]);
    expect(audit.every((a) => a.actor_id === adminId)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(PRIVATE_TOKEN);
    expect(JSON.stringify(audit)).not.toContain(SECOND_TOKEN);
  });
});

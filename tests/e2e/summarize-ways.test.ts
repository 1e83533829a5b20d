/**
 * The ways of asking for a summary beyond the channel at hand, end to end:
 * `post_to` (allowed, and refused under the visibility invariant) and
 * `format:file`. The real bot process against the Discord emulator and an
 * Anthropic emulator.
 */
import { describe, expect, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { text } from './summary-output.ts';
import { modelAnswer } from '../discord/responders.ts';
import { EPHEMERAL, privateReply, summaryOf, WAIT_MS } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const API_KEY = `sk-ant-e2e-${'k'.repeat(24)}`;

let e2e: E2E;
let anthropic: AnthropicEmulator;

startE2EWithAnthropicForFile({ keys: { operator: API_KEY }, responder: modelAnswer }, (started) => ({ e2e, anthropic } = started));

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${e2e.world.guild.id}/${channelId}/${messageId}`;

describe('/summarize post_to end to end', () => {
  it('posts the summary in another channel when everyone there can read the source, and tells the asker where', async () => {
    const { world, discord } = e2e;
    const ids = discord
      .seedMessages(world.general.id, [
        { authorId: world.member.id, content: 'Release on Friday?' },
        { authorId: world.admin.id, content: 'Yes, Friday.' },
      ])
      .map((m) => m.id);
    const before = discord.botMessages.length;
    const handle = e2e.command(world.admin.id, 'summarize', { options: { post_to: world.staff.id } });
    const reply = await handle.waitForFinal((m) => m.content.includes('posted the summary'), WAIT_MS);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    const posted = discord.botMessages.slice(before).filter((m) => m.channel_id === world.staff.id && m.embeds.length > 0);
    expect(posted.length).toBeGreaterThan(0);
    expect(reply.content).toMatch(new RegExp(`^Summarized \\d+ messages; posted the summary in <#${world.staff.id}>: https://discord\\.com/channels/${world.guild.id}/${world.staff.id}/${posted[0]!.id}$`));
    expect(posted[0]!.embeds[0]!.title).toBe('Brief summary of #general');
    for (const id of ids) expect(text(posted)).toContain(jump(world.general.id, id));
    expect(posted.at(-1)!.embeds.at(-1)!.footer!.text).toMatch(/^Asked by admin · /);
    // Nothing public where the command ran.
    expect(handle.followUps.every((f) => (f.message.flags & EPHEMERAL) === EPHEMERAL)).toBe(true);
  });

  it('refuses to post where someone who can see the destination cannot read the source, saying who', async () => {
    const { world, discord } = e2e;
    discord.seedMessages(world.staff.id, [{ authorId: world.admin.id, content: 'Salary bands for next year' }]);
    const before = discord.botMessages.length;
    const handle = e2e.command(world.admin.id, 'summarize', { channelId: world.staff.id, options: { post_to: world.general.id } });
    await privateReply(handle, new RegExp(`^I won't post a summary of <#${world.staff.id}> in <#${world.general.id}>: <@${world.restricted.id}> can see <#${world.general.id}> but can't see <#${world.staff.id}>\\. \\(ref \`[0-9a-f]{8}\`\\)$`));
    expect(discord.botMessages.slice(before).filter((m) => m.channel_id === world.general.id)).toEqual([]);
  });

  it('refuses to post where the asker cannot send messages', async () => {
    const { world, discord } = e2e;
    const announcements = discord.addChannel(world.guild.id, {
      kind: 'text',
      name: 'announcements',
      parentId: world.category.id,
      overwrites: [{ id: world.guild.id, type: 'role', deny: ['SendMessages'] }],
    });
    const handle = e2e.command(world.member.id, 'summarize', { options: { post_to: announcements.id } });
    await privateReply(handle, new RegExp(`^You can't send messages in <#${announcements.id}>, so I won't post there for you\\. \\(ref \`[0-9a-f]{8}\`\\)$`));
  });

  it('refuses `post_to` together with `private`', async () => {
    const { world } = e2e;
    const handle = e2e.command(world.admin.id, 'summarize', { options: { post_to: world.staff.id, private: true } });
    await privateReply(handle, /^`post_to` posts the summary for others to see, so it cannot be combined with `private`\. \(ref `[0-9a-f]{8}`\)$/);
  });
});

describe('/summarize format:file end to end', () => {
  it('sends the summary as a Markdown attachment, citations as jump links, with the title and footer in the message', async () => {
    const { world, discord } = e2e;
    const notes = discord.addChannel(world.guild.id, { kind: 'text', name: 'notes', parentId: world.category.id });
    const ids = discord
      .seedMessages(notes.id, [
        { authorId: world.member.id, content: 'Draft the changelog' },
        { authorId: world.admin.id, content: 'Changelog drafted' },
      ])
      .map((m) => m.id);
    const handle = e2e.command(world.member.id, 'summarize', { channelId: notes.id, options: { format: 'file' } });
    const withFile = await handle.waitFor((h) => h.followUps.find((f) => f.files.length > 0), WAIT_MS, 'the summary file');
    expect(withFile.message.flags & EPHEMERAL).toBe(0);
    const [file] = withFile.files;
    expect(file!.filename).toBe('summary-notes.md');
    const markdown = file!.content.toString('utf8');
    expect(markdown.startsWith('# Brief summary of #notes\n')).toBe(true);
    expect(markdown).toContain(`- 2 messages discussed: [[1]](${jump(notes.id, ids[0]!)})[[2]](${jump(notes.id, ids[1]!)})`);
    expect(markdown).toMatch(/\n---\nAsked by member · Prompt bundled:summaries\/discussion\/brief\.md · .* · 2 messages · /);
    const embed = withFile.message.embeds[0]!;
    expect(embed.title).toBe('Brief summary of #notes');
    expect(embed.description).toBe(`The summary is attached as \`summary-notes.md\` (${markdown.length.toLocaleString('en-US')} characters of Markdown).`);
    expect(withFile.message.attachments.map((a) => a.filename)).toEqual(['summary-notes.md']);
  });
});

describe('/summarize in_category end to end', () => {
  it('summarizes every channel of a category that the member and the bot can read, a section each, skipping `exclude`', async () => {
    const { world, discord } = e2e;
    const team = discord.addChannel(world.guild.id, { kind: 'category', name: 'team' });
    const frontend = discord.addChannel(world.guild.id, { kind: 'text', name: 'frontend', parentId: team.id });
    const backend = discord.addChannel(world.guild.id, { kind: 'text', name: 'backend', parentId: team.id });
    const random = discord.addChannel(world.guild.id, { kind: 'text', name: 'random', parentId: team.id });
    const botless = discord.addChannel(world.guild.id, {
      kind: 'text',
      name: 'botless',
      parentId: team.id,
      overwrites: [{ id: discord.bot.id, type: 'member', deny: ['ViewChannel'] }],
    });
    const secret = discord.addChannel(world.guild.id, {
      kind: 'text',
      name: 'secret',
      parentId: team.id,
      overwrites: [{ id: world.member.id, type: 'member', deny: ['ViewChannel'] }],
    });
    const [fe] = discord.seedMessages(frontend.id, [{ authorId: world.member.id, content: 'Button styles merged' }]).map((m) => m.id);
    const [be] = discord.seedMessages(backend.id, [{ authorId: world.admin.id, content: 'API rate limits raised' }]).map((m) => m.id);
    discord.seedMessages(random.id, [{ authorId: world.admin.id, content: 'Cat pictures' }]);
    discord.seedMessages(secret.id, [{ authorId: world.admin.id, content: 'Hidden plans' }]);
    const handle = e2e.command(world.member.id, 'summarize', { options: { in_category: team.id, exclude: `<#${random.id}>` } });
    const messages = await summaryOf(handle);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);
    expect(messages[0]!.embeds[0]!.title).toBe('Brief summary of the team category');
    const body = text(messages);
    expect(body).toBe(`## #frontend\n- 1 messages discussed: [[1]](${jump(frontend.id, fe!)})\n\n## #backend\n- 1 messages discussed: [[1]](${jump(backend.id, be!)})`);
    const all = JSON.stringify(messages);
    expect(all).toContain(`I can't read <#${botless.id}>, so it is left out.`);
    // A channel the member cannot read is not even named.
    expect(all).not.toContain(secret.id);
    expect(messages.at(-1)!.embeds.at(-1)!.footer!.text).toMatch(/^Asked by member · .* · 2 messages · 2 chunks · /);
  });

  it('bounds a category summary to 10 channels and says which were left out', async () => {
    const { world, discord } = e2e;
    const big = discord.addChannel(world.guild.id, { kind: 'category', name: 'big' });
    const channels = Array.from({ length: 11 }, (_, i) => discord.addChannel(world.guild.id, { kind: 'text', name: `room-${i}`, parentId: big.id }));
    for (const channel of channels) discord.seedMessages(channel.id, [{ authorId: world.member.id, content: `hello from ${channel.name}` }]);
    const handle = e2e.command(world.member.id, 'summarize', { options: { in_category: big.id } });
    const messages = await summaryOf(handle);
    expect(text(messages).match(/^## #room-/gm)).toHaveLength(10);
    expect(JSON.stringify(messages)).toContain(`A category summary covers at most 10 channels; left out: <#${channels[10]!.id}> (use \`exclude\` to choose).`);
  });
});

describe('/summarize language end to end', () => {
  it('offers languages by autocomplete, and the chosen one reaches the prompt as {locale} (default: the server\'s)', async () => {
    const { world, discord } = e2e;
    expect(await e2e.autocomplete(world.member.id, 'summarize', { focused: 'language', options: { language: 'deu' } })).toEqual(['de']);
    const lang = discord.addChannel(world.guild.id, { kind: 'text', name: 'lang', parentId: world.category.id });
    discord.seedMessages(lang.id, [{ authorId: world.member.id, content: 'Guten Morgen' }]);
    await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: lang.id, options: { language: 'de' } }));
    expect(JSON.stringify(anthropic.completions().at(-1)!.body)).toContain('locale is \\"de\\"');
    await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: lang.id }));
    expect(JSON.stringify(anthropic.completions().at(-1)!.body)).toContain('locale is \\"en-US\\"');
    const refused = e2e.command(world.member.id, 'summarize', { channelId: lang.id, options: { language: 'klingon' } });
    await privateReply(refused, /^`language`: pick one of the suggested languages/);
  });

  it('registers /summarize and /ask with names and descriptions in de, fr, es-ES, pt-BR and ja', () => {
    const registered = e2e.discord.commands.list(e2e.world.guild.id);
    for (const name of ['summarize', 'ask']) {
      const command = registered.find((c) => c['name'] === name)!;
      expect(Object.keys(command['name_localizations'] as object).sort()).toEqual(['de', 'es-ES', 'fr', 'ja', 'pt-BR']);
      expect(Object.keys(command['description_localizations'] as object).sort()).toEqual(['de', 'es-ES', 'fr', 'ja', 'pt-BR']);
    }
  });
});

describe('/prompt-config category-map end to end', () => {
  it('maps a Discord category to a prompt category that summaries there then use, lists it, and removes it', async () => {
    const { world, discord } = e2e;
    const meetings = discord.addChannel(world.guild.id, { kind: 'category', name: 'meetings' });
    const standup = discord.addChannel(world.guild.id, { kind: 'text', name: 'standup', parentId: meetings.id });
    discord.seedMessages(standup.id, [{ authorId: world.member.id, content: 'Yesterday: reviews. Today: release notes.' }]);

    const set = await e2e.runCommand(world.admin.id, 'prompt-config', { subcommand: 'category-map-set', options: { discord_category: meetings.id, prompt_category: 'Meeting' } });
    expect(set.reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(set.reply.content).toBe('Summaries of channels in **meetings** now use the `meeting` prompt category (unless a member picks another).');
    const list = await e2e.runCommand(world.admin.id, 'prompt-config', { subcommand: 'category-map-list' });
    expect(list.reply.content).toBe(`Prompt categories by Discord category:\n- <#${meetings.id}> → \`meeting\``);

    const mapped = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: standup.id }));
    expect(mapped.at(-1)!.embeds.at(-1)!.footer!.text).toContain('Prompt bundled:summaries/meeting/');

    const refused = e2e.command(world.member.id, 'prompt-config', { subcommand: 'category-map-remove', options: { discord_category: meetings.id } });
    await privateReply(refused, /Manage Server/);
    const removed = await e2e.runCommand(world.admin.id, 'prompt-config', { subcommand: 'category-map-remove', options: { discord_category: meetings.id } });
    expect(removed.reply.content).toBe('**meetings** no longer has a prompt category mapped.');
    const unmapped = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: standup.id }));
    expect(unmapped.at(-1)!.embeds.at(-1)!.footer!.text).toContain('Prompt bundled:summaries/discussion/');
  });

  it('without a mapping, uses the Discord category\'s own name when the prompts route it', async () => {
    const { world, discord } = e2e;
    const mods = discord.addChannel(world.guild.id, { kind: 'category', name: 'Moderation!' });
    const reports = discord.addChannel(world.guild.id, { kind: 'text', name: 'reports', parentId: mods.id });
    const other = discord.addChannel(world.guild.id, { kind: 'category', name: 'Water Cooler' });
    const chatter = discord.addChannel(world.guild.id, { kind: 'text', name: 'chatter', parentId: other.id });
    for (const channel of [reports, chatter]) discord.seedMessages(channel.id, [{ authorId: world.member.id, content: 'Someone posted spam' }]);
    const routed = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: reports.id }));
    expect(routed.at(-1)!.embeds.at(-1)!.footer!.text).toContain('Prompt bundled:summaries/moderation/');
    const unrouted = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: chatter.id }));
    expect(unrouted.at(-1)!.embeds.at(-1)!.footer!.text).toContain('Prompt bundled:summaries/discussion/');
  });
});

/**
 * The message context menus "Summarize from here" and "Summarize this
 * thread" end to end: the real bot process against the Discord emulator
 * (message commands: type 2 interactions of command type 3 with
 * `target_id` and `resolved.messages`) and an Anthropic emulator.
 */
import { describe, expect, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { text } from './summary-output.ts';
import { modelAnswer } from '../discord/responders.ts';
import { EPHEMERAL, privateReply, summaryOf } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const API_KEY = `sk-ant-e2e-${'k'.repeat(24)}`;

let e2e: E2E;
let anthropic: AnthropicEmulator;

startE2EWithAnthropicForFile({ keys: { operator: API_KEY }, responder: modelAnswer }, (started) => ({ e2e, anthropic } = started));

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${e2e.world.guild.id}/${channelId}/${messageId}`;
const lastPrompt = () => JSON.stringify(anthropic.completions().at(-1)!.body);

describe('message context menus end to end', () => {
  it('are registered as message commands for servers, with localized names', () => {
    const registered = e2e.discord.commands.list(e2e.world.guild.id).filter((c) => c['type'] === 3);
    expect(registered.map((c) => c['name'])).toEqual(['Summarize from here', 'Summarize this thread']);
    for (const command of registered) {
      expect(command['contexts']).toEqual([0]);
      expect(Object.keys(command['name_localizations'] as object).sort()).toEqual(['de', 'es-ES', 'fr', 'ja', 'pt-BR']);
    }
  });

  it('"Summarize from here" summarizes from that message to now, and nothing before it', async () => {
    const { world, discord } = e2e;
    const release = discord.addChannel(world.guild.id, { kind: 'text', name: 'release', parentId: world.category.id });
    const start = Date.now() - 3_600_000;
    const [, target, ...after] = discord
      .seedMessages(release.id, [
        { authorId: world.admin.id, content: 'Old news about lunch', at: start },
        { authorId: world.member.id, content: 'Is the release ready?', at: start + 60_000 },
        { authorId: world.admin.id, content: 'Tests are green.', at: start + 120_000 },
        { authorId: world.member.id, content: 'Shipping Friday.', at: start + 180_000 },
      ])
      .map((m) => m.id);
    const handle = e2e.command(world.member.id, 'Summarize from here', { channelId: release.id, targetMessageId: target! });
    const messages = await summaryOf(handle);
    expect(handle.original!.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);
    expect(messages[0]!.embeds[0]!.title).toBe('Brief summary of #release');
    for (const id of after) expect(text(messages)).toContain(jump(release.id, id));
    expect(lastPrompt()).toContain('Shipping Friday.');
    expect(lastPrompt()).not.toContain('Old news about lunch');
  });

  it('"Summarize this thread" on the message a thread was started from summarizes that thread', async () => {
    const { world, discord } = e2e;
    const design = discord.addChannel(world.guild.id, { kind: 'text', name: 'design', parentId: world.category.id });
    const [question] = discord.seedMessages(design.id, [{ authorId: world.member.id, content: 'Which font for the logo?' }]);
    // Discord gives a thread started from a message that message's id.
    const thread = discord.addChannel(world.guild.id, { kind: 'thread', name: 'logo-font', parentId: design.id, ownerId: world.member.id, id: question!.id });
    const ids = discord
      .seedMessages(thread.id, [
        { authorId: world.admin.id, content: 'Inter reads well small.' },
        { authorId: world.member.id, content: 'Inter it is.' },
      ])
      .map((m) => m.id);
    discord.seedMessages(design.id, [{ authorId: world.admin.id, content: 'Unrelated channel chatter' }]);
    const handle = e2e.command(world.member.id, 'Summarize this thread', { channelId: design.id, targetMessageId: question!.id });
    const messages = await summaryOf(handle);
    expect(messages[0]!.embeds[0]!.title).toBe('Brief summary of #logo-font');
    for (const id of ids) expect(text(messages)).toContain(jump(thread.id, id));
    expect(lastPrompt()).toContain('Inter it is.');
    expect(lastPrompt()).not.toContain('Unrelated channel chatter');
  });

  it('"Summarize this thread" inside a thread summarizes it from its start, not from the message used', async () => {
    const { world, discord } = e2e;
    const thread = discord.addChannel(world.guild.id, { kind: 'thread', name: 'retro', parentId: world.general.id, ownerId: world.member.id });
    const [first, , last] = discord
      .seedMessages(thread.id, [
        { authorId: world.member.id, content: 'What went wrong last sprint?' },
        { authorId: world.admin.id, content: 'Flaky CI.' },
        { authorId: world.member.id, content: 'I will fix the CI cache.' },
      ])
      .map((m) => m.id);
    const handle = e2e.command(world.member.id, 'Summarize this thread', { channelId: thread.id, targetMessageId: last! });
    const messages = await summaryOf(handle);
    expect(text(messages)).toContain(jump(thread.id, first!));
    expect(lastPrompt()).toContain('What went wrong last sprint?');
  });

  it('"Summarize this thread" on a message with no thread says what to do instead', async () => {
    const { world, discord } = e2e;
    const [plain] = discord.seedMessages(world.general.id, [{ authorId: world.member.id, content: 'just a message' }]);
    const handle = e2e.command(world.member.id, 'Summarize this thread', { targetMessageId: plain!.id });
    await privateReply(handle, /^That message is not in a thread and no thread was started from it; use this on a message inside a thread or on the message a thread was started from\. \(ref `[0-9a-f]{8}`\)$/);
  });
});

/**
 * /summarize end to end: the real bot process (`src/main.ts`) against the
 * Discord emulator and an Anthropic emulator, driven only as members would.
 * The offline `local` provider is switched off here, so that an outage of
 * the model provider is an outage.
 */
import { describe, expect, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { footerOf, text } from './summary-output.ts';
import { modelAnswer } from '../discord/responders.ts';
import { EPHEMERAL, summaryOf, WAIT_MS } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const API_KEY = `sk-ant-e2e-${'k'.repeat(24)}`;

let e2e: E2E;
let anthropic: AnthropicEmulator;

startE2EWithAnthropicForFile({ keys: { operator: API_KEY }, responder: modelAnswer }, (started) => ({ e2e, anthropic } = started));

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${e2e.world.guild.id}/${channelId}/${messageId}`;


describe('/summarize end to end', () => {
  it('is registered for servers, with its options', () => {
    const registered = e2e.discord.commands.list(e2e.world.guild.id).find((c) => c['name'] === 'summarize');
    expect(registered?.['contexts']).toEqual([0]);
    const options = (registered?.['options'] as Array<{ name: string }>).map((o) => o.name);
    expect(options).toEqual(['channel', 'messages', 'since', 'type', 'perspective', 'category', 'private', 'format', 'language', 'in_category', 'exclude', 'post_to']);
  });

  it('summarizes a channel: public summary citing messages by jump link, footer with prompt, model, size and cost', async () => {
    const { world, discord } = e2e;
    const ids = discord
      .seedMessages(world.general.id, [
        { authorId: world.member.id, content: 'Is the release ready?' },
        { authorId: world.admin.id, content: 'Tests are green.' },
        { authorId: world.member.id, content: 'Shipping Friday.' },
      ])
      .map((m) => m.id);
    const handle = e2e.command(world.member.id, 'summarize');
    const messages = await summaryOf(handle);
    expect(handle.original!.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);
    expect(text(messages)).toBe(`- 3 messages discussed: ${ids.map((id, i) => `[[${i + 1}]](${jump(world.general.id, id)})`).join('')}`);
    expect(footerOf(messages)).toMatch(/^Asked by member · Prompt bundled:summaries\/discussion\/brief\.md · anthropic\/claude-sonnet-4-6 · 3 messages · 1 chunk · \$0\.\d{4}$/);
    // The conversation went to the model as data in the user turn, never in the instructions.
    const sent = anthropic.completions().at(-1)!;
    expect(JSON.stringify(sent.body)).toContain('Shipping Friday.');
  });

  it('summarizes a thread privately', async () => {
    const { world, discord } = e2e;
    const [id] = discord.seedMessages(world.thread.id, [{ authorId: world.admin.id, content: 'Plan: freeze Monday' }]).map((m) => m.id);
    const handle = e2e.command(world.admin.id, 'summarize', { options: { channel: world.thread.id, private: true, type: 'detailed' } });
    const messages = await summaryOf(handle);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === EPHEMERAL)).toBe(true);
    expect(messages[0]!.embeds[0]!.title).toBe('Detailed summary of #planning');
    expect(text(messages)).toContain(`[[1]](${jump(world.thread.id, id!)})`);
  });

  it('refuses a member who cannot read the channel', async () => {
    const { world } = e2e;
    const reply = await e2e.command(world.restricted.id, 'summarize', { options: { channel: world.staff.id } }).waitForFinal(() => true, WAIT_MS);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toMatch(/^You can't read the history of <#\d+>, so I won't summarize it for you\. \(ref `[0-9a-f]{8}`\)$/);
  });

  it('says what is wrong with `since`, and when nothing is in the window', async () => {
    const { world, discord } = e2e;
    const bad = await e2e.command(world.member.id, 'summarize', { options: { since: 'yesterday' } }).waitForFinal(() => true, WAIT_MS);
    expect(bad.content).toMatch(/^`since`: "yesterday" is not a duration/);
    const quiet = discord.addChannel(world.guild.id, { kind: 'text', name: 'quiet', parentId: world.category.id });
    discord.seedMessages(quiet.id, [{ authorId: world.member.id, content: 'long ago', at: Date.now() - 5 * 3_600_000 }]);
    const empty = await e2e.command(world.member.id, 'summarize', { channelId: quiet.id, options: { since: '1h' } }).waitForFinal((m) => m.content.includes('(ref'), WAIT_MS);
    expect(empty.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(empty.content).toMatch(/^Nothing to summarize: #quiet has no messages in the requested range\. Try a longer `since`\./);
  });

  it('says the model providers are unavailable when the provider is overloaded', async () => {
    const { world, discord } = e2e;
    const outage = discord.addChannel(world.guild.id, { kind: 'text', name: 'outage' });
    discord.seedMessages(outage.id, [{ authorId: world.member.id, content: 'hello?' }]);
    anthropic.faults.setDefault({ type: 'overloaded' });
    try {
      const reply = await e2e.command(world.member.id, 'summarize', { channelId: outage.id }).waitForFinal((m) => m.content.includes('(ref'), WAIT_MS);
      expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(reply.content).toMatch(/^The model providers are unavailable right now/);
    } finally {
      anthropic.faults.reset();
    }
  });

  it('leaves no interaction unanswered and never shows the API key', async () => {
    // Its own interactions (a summary, a refusal, an outage), so that it holds when run alone.
    const { world, discord } = e2e;
    const audit = discord.addChannel(world.guild.id, { kind: 'text', name: 'audit' });
    const down = discord.addChannel(world.guild.id, { kind: 'text', name: 'audit-outage' });
    discord.seedMessages(audit.id, [{ authorId: world.member.id, content: 'Audit this.' }]);
    discord.seedMessages(down.id, [{ authorId: world.member.id, content: 'Anyone there?' }]);
    const before = discord.interactions.length;
    await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: audit.id }));
    await e2e.command(world.restricted.id, 'summarize', { options: { channel: world.staff.id } }).waitForFinal(() => true, WAIT_MS);
    anthropic.faults.setDefault({ type: 'overloaded' });
    try {
      await e2e.command(world.member.id, 'summarize', { channelId: down.id }).waitForFinal((m) => m.content.includes('(ref'), WAIT_MS);
    } finally {
      anthropic.faults.reset();
    }
    expect(discord.interactions.length - before).toBe(3);
    expect(e2e.unanswered()).toEqual([]);
    expect(e2e.leaksOf(API_KEY)).toEqual([]);
  });
});

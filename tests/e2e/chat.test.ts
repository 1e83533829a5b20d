/**
 * Chat end to end: /ask and mentions through the real bot process against
 * the Discord and Anthropic emulators. The emulated model repeats the latest
 * question and lists the earlier ones it was sent, so each answer shows what
 * the thread's memory held. Steps build on each other, in order.
 */
import { describe, expect, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import type { ApiMessage } from '../emulators/discord/server.ts';
import { modelAnswer } from '../discord/responders.ts';
import { EPHEMERAL, WAIT_MS } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const API_KEY = `sk-ant-e2e-${'c'.repeat(24)}`;
const SIGNATURE = '\n\n-# anthropic/claude-sonnet-4-6';

let e2e: E2E;
let anthropic: AnthropicEmulator;
let threadId = '';

startE2EWithAnthropicForFile({ keys: { operator: API_KEY }, responder: modelAnswer }, (started) => ({ e2e, anthropic } = started));

function botMessagesIn(channelId: string): ApiMessage[] {
  return e2e.discord.botMessages.filter((m) => m.channel_id === channelId && (m.flags & EPHEMERAL) === 0);
}

function nextBotMessage(channelId: string, after: number): Promise<ApiMessage> {
  return e2e.discord.waitForBotMessage((m) => m.channel_id === channelId && e2e.discord.botMessages.indexOf(m) >= after, WAIT_MS);
}

describe('chat end to end', () => {
  it('/ask in a channel starts a thread with the question and the answer', async () => {
    const { world } = e2e;
    const handle = e2e.command(world.member.id, 'ask', { subcommand: 'question', options: { text: 'When do we ship?' } });
    const reply = await handle.waitForFinal((m) => m.content.startsWith('Answered in'), WAIT_MS);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    threadId = /<#(\d+)>/.exec(reply.content)![1]!;
    expect(e2e.discord.state.channel(threadId).parentId).toBe(world.general.id);
    const [question, answer] = botMessagesIn(threadId);
    expect(question!.content).toBe('**member** asked:\n> When do we ship?');
    expect(answer!.content).toBe(`You asked: When do we ship?${SIGNATURE}`);
  });

  it('a mention in the thread continues its conversation', async () => {
    const { world, discord } = e2e;
    const start = discord.botMessages.length;
    discord.messageCreate({ channelId: threadId, authorId: world.admin.id, content: `<@${discord.bot.id}> and who writes the notes?` });
    const answer = await nextBotMessage(threadId, start);
    expect(answer.content).toBe(`You asked: and who writes the notes?\nEarlier you asked: When do we ship?${SIGNATURE}`);
  });

  it('a mention in a channel starts a thread from that message', async () => {
    const { world, discord } = e2e;
    const start = discord.botMessages.length;
    const asked = discord.messageCreate({ channelId: world.general.id, authorId: world.member.id, content: `<@${discord.bot.id}> what is our on-call rota?` });
    const answer = await nextBotMessage(asked.id, start);
    expect(discord.state.channel(asked.id).parentId).toBe(world.general.id);
    expect(answer.content).toBe(`You asked: what is our on-call rota?${SIGNATURE}`);
  });

  it('/ask reset forgets the thread, so the next question starts fresh', async () => {
    const { world } = e2e;
    const reset = await e2e.command(world.member.id, 'ask', { subcommand: 'reset', channelId: threadId }).waitForFinal(() => true, WAIT_MS);
    expect(reset.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reset.content).toContain('I forgot this thread’s conversation');
    const handle = e2e.command(world.member.id, 'ask', { subcommand: 'question', channelId: threadId, options: { text: 'Starting over?' } });
    await handle.waitForFinal((m) => m.content.startsWith('Answered in'), WAIT_MS);
    expect(botMessagesIn(threadId).at(-1)!.content).toBe(`**member** asked:\n> Starting over?\n\nYou asked: Starting over?${SIGNATURE}`);
  });

  it('says the providers are unavailable during an outage', async () => {
    const { world } = e2e;
    anthropic.faults.setDefault({ type: 'overloaded' });
    try {
      const handle = e2e.command(world.member.id, 'ask', { subcommand: 'question', channelId: threadId, options: { text: 'Still there?' } });
      const reply = await handle.waitForFinal((m) => m.content.includes('(ref `'), WAIT_MS);
      expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(reply.content).toMatch(/^The model providers are unavailable right now/);
    } finally {
      anthropic.faults.reset();
    }
  });

  it('leaves no interaction unanswered and never shows the API key', () => {
    expect(e2e.unanswered()).toEqual([]);
    expect(e2e.leaksOf(API_KEY)).toEqual([]);
  });
});

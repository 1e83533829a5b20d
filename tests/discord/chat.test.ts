/**
 * Chat in-process: /ask and mentions through the real discord.js client and
 * dispatcher against the Discord emulator, the real chat engine and its
 * memory store over PGlite. The provider answers from the turns it was sent,
 * so what an answer says about earlier questions is what memory held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import type { ApiMessage, InteractionHandle } from '../emulators/discord/server.ts';
import { EPHEMERAL, OverloadedProvider, TranscribingProvider, startInProcessBot, type InProcessBot } from './support.ts';

let database: DatabaseHandle;
let harness: InProcessBot;
let model: TranscribingProvider;

beforeAll(async () => {
  database = await createPgliteDatabase();
  model = new TranscribingProvider('thinker', 'thinker-1');
  harness = await startInProcessBot({ database, provider: model });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

const botMention = () => `<@${harness.discord.bot.id}>`;

function ask(userId: string, subcommand: 'question' | 'reset', channelId: string, text?: string): InteractionHandle {
  return harness.discord.sendInteraction({ type: 'command', name: 'ask', subcommand, userId, channelId, ...(text === undefined ? {} : { options: { text } }) });
}

/** The bot's messages in a channel, oldest first. */
function botMessagesIn(channelId: string): ApiMessage[] {
  return harness.discord.botMessages.filter((m) => m.channel_id === channelId && (m.flags & EPHEMERAL) === 0);
}

async function nextBotMessage(channelId: string, after: number, predicate: (m: ApiMessage) => boolean = () => true): Promise<ApiMessage> {
  return harness.discord.waitForBotMessage((m) => m.channel_id === channelId && harness.discord.botMessages.indexOf(m) >= after && predicate(m), 10_000);
}

/** Resolves once no mention is being answered (every accepted mention has finished). */
async function mentionsSettled(): Promise<void> {
  for (let i = 0; i < 200 && harness.mentions.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(harness.mentions.inFlight).toBe(0);
}

describe('chat', () => {
  let threadId = '';

  it('/ask in a channel starts a thread holding the question and the answer', async () => {
    const { world } = harness;
    const handle = ask(world.alice.id, 'question', world.general.id, 'When is the release?');
    const reply = await handle.waitForFinal((m) => m.content.startsWith('Answered in'), 10_000);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    threadId = /<#(\d+)>/.exec(reply.content)![1]!;
    const thread = harness.discord.state.channel(threadId);
    expect(thread.parentId).toBe(world.general.id);
    expect(thread.name).toBe('When is the release?');
    const [question, answer] = botMessagesIn(threadId);
    expect(question!.content).toBe('**Ally** asked:\n> When is the release?');
    expect(answer!.content).toBe('You asked: When is the release?\n\n-# thinker/thinker-1');
    expect(reply.content).toContain(`/channels/${world.guild.id}/${threadId}/${answer!.id}`);
  });

  it('a mention in that thread continues its conversation; the mention is stripped from the question', async () => {
    const { discord, world } = harness;
    const start = discord.botMessages.length;
    const asked = discord.messageCreate({ channelId: threadId, authorId: world.bob.id, content: `${botMention()} and the docs, <@${world.alice.id}>?` });
    const answer = await nextBotMessage(threadId, start);
    expect(answer.message_reference?.message_id).toBe(asked.id);
    expect(answer.content).toBe('You asked: and the docs, @Ally?\nEarlier you asked: When is the release?\n\n-# thinker/thinker-1');
  });

  it('a mention in a channel starts a thread from that message, with its own memory', async () => {
    const { discord, world } = harness;
    const start = discord.botMessages.length;
    const asked = discord.messageCreate({ channelId: world.general.id, authorId: world.alice.id, content: `hey ${botMention()} what is a canary deploy?` });
    // A thread started from a message shares its id.
    const answer = await nextBotMessage(asked.id, start);
    expect(discord.state.channel(asked.id).parentId).toBe(world.general.id);
    expect(discord.state.channel(asked.id).name).toBe('hey what is a canary deploy?');
    expect(answer.content).toBe('You asked: hey what is a canary deploy?\n\n-# thinker/thinker-1');
  });

  it('/ask inside a thread answers there with the question quoted, remembering the thread', async () => {
    const { world } = harness;
    const handle = ask(world.bob.id, 'question', threadId, 'Who owns the docs?');
    const reply = await handle.waitForFinal((m) => m.content.startsWith('Answered in'), 10_000);
    expect(reply.content).toContain(`<#${threadId}>`);
    const last = botMessagesIn(threadId).at(-1)!;
    expect(last.content).toBe(
      '**bob** asked:\n> Who owns the docs?\n\nYou asked: Who owns the docs?\nEarlier you asked: When is the release? | and the docs, @Ally?\n\n-# thinker/thinker-1',
    );
  });

  it('/ask reset forgets the thread’s conversation; outside a thread it says where to run it', async () => {
    const { discord, world } = harness;
    const reset = await ask(world.alice.id, 'reset', threadId).waitForReply(10_000);
    expect(reset.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reset.content).toContain('I forgot this thread’s conversation');
    const again = await ask(world.alice.id, 'reset', threadId).waitForReply(10_000);
    expect(again.content).toContain('There was nothing to forget');

    const start = discord.botMessages.length;
    discord.messageCreate({ channelId: threadId, authorId: world.alice.id, content: `${botMention()} fresh start?` });
    expect((await nextBotMessage(threadId, start)).content).toBe('You asked: fresh start?\n\n-# thinker/thinker-1');

    const outside = await ask(world.alice.id, 'reset', world.general.id).waitForReply(10_000);
    expect(outside.content).toMatch(/^Conversations with the bot live in threads: run `\/ask reset` inside the thread .* \(ref `[0-9a-f]{8}`\)$/);
  });

  it('ignores bots and messages that do not mention it; an empty mention gets a hint', async () => {
    const { discord, world } = harness;
    const other = discord.addUser({ username: 'otherbot', bot: true });
    discord.addMember(world.guild.id, other.id);
    const calls = model.calls.length;
    const fromBot = discord.messageCreate({ channelId: world.general.id, authorId: other.id, content: `${botMention()} summarize everything` });
    discord.messageCreate({ channelId: world.general.id, authorId: world.alice.id, content: 'no mention here, recap-bot' });
    const start = discord.botMessages.length;
    const empty = discord.messageCreate({ channelId: world.general.id, authorId: world.bob.id, content: botMention() });
    const hint = await nextBotMessage(world.general.id, start);
    expect(hint.message_reference?.message_id).toBe(empty.id);
    expect(hint.content).toMatch(/^Ask me something after the mention, for example: <@\d+> what was decided about the release\? \(ref `[0-9a-f]{8}`\)$/);
    await mentionsSettled();
    expect(model.calls.length).toBe(calls);
    expect(discord.state.channels.has(fromBot.id)).toBe(false);
  });

  it('tells the member when the providers are down, by mention and by /ask', async () => {
    const { discord, world } = harness;
    harness.useProvider(new OverloadedProvider());
    try {
      const start = discord.botMessages.length;
      discord.messageCreate({ channelId: threadId, authorId: world.alice.id, content: `${botMention()} still there?` });
      const failure = await nextBotMessage(threadId, start);
      expect(failure.content).toMatch(/^The model providers are unavailable right now; please try again in a few minutes\. \(ref `[0-9a-f]{8}`\)$/);

      const handle = ask(world.alice.id, 'question', threadId, 'hello?');
      const reply = await handle.waitForFinal((m) => m.content.includes('(ref `'), 10_000);
      expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(reply.content).toMatch(/^The model providers are unavailable right now/);
    } finally {
      harness.useProvider(model);
    }
  });
});

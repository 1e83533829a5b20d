/**
 * /ask and mentions answer from channel history, in-process: the real
 * discord.js client and dispatcher against the Discord emulator, the real
 * chat engine and retrieval. The provider cites every channel message it was
 * sent, so what an answer links to is what retrieval chose; the offline
 * `local` provider is the real plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import type { GuildTextBasedChannel, ThreadChannel } from 'discord.js';
import { createLocalProvider } from '../../plugins/local/provider.ts';
import { gatherHistory, type HistoryLimits, type HistoryRequest } from '../../src/discord/chat/channel-history.ts';
import { createMemberNames } from '../../src/discord/history/member-names.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import type { ApiMessage, StoredChannel } from '../emulators/discord/server.ts';
import { EPHEMERAL, TranscribingProvider, startInProcessBot, type InProcessBot } from './support.ts';
import { CHANNEL_CHATTER } from '../helpers/conversation-messages.ts';

let database: DatabaseHandle;
let harness: InProcessBot;
let model: TranscribingProvider;
let releases: StoredChannel;
let decision: ApiMessage;
let question: ApiMessage;
let faraway: ApiMessage;
let releaseNote: ApiMessage;


beforeAll(async () => {
  database = await createPgliteDatabase();
  model = new TranscribingProvider('thinker', 'thinker-1');
  harness = await startInProcessBot({ database, provider: model });
  const { discord, world } = harness;
  const now = Date.now();
  const said = [
    ...Array.from({ length: 30 }, (_, i) => ({ authorId: i % 2 === 0 ? world.alice.id : world.bob.id, content: CHANNEL_CHATTER[i % CHANNEL_CHATTER.length]! })),
    { authorId: world.alice.id, content: 'Should the 2.0 release go out on Friday or wait for the migration?' },
    { authorId: world.bob.id, content: 'ok, decision: we release 2.0 on Friday; the migration ships in 2.1' },
    ...Array.from({ length: 10 }, (_, i) => ({ authorId: i % 2 === 0 ? world.alice.id : world.bob.id, content: CHANNEL_CHATTER[(i + 3) % CHANNEL_CHATTER.length]! })),
  ];
  const seeded = discord.seedMessages(
    world.general.id,
    said.map((m, i) => ({ ...m, at: now - (said.length - i) * 60_000 })),
  );
  faraway = seeded[0]!;
  question = seeded[30]!;
  decision = seeded[31]!;
  discord.seedMessages(world.secret.id, [{ authorId: world.alice.id, content: 'secret plan: the release slips to March' }], { endAt: now - 60_000 });
  discord.seedMessages(world.sealed.id, [{ authorId: world.alice.id, content: 'sealed: release budget approved' }], { endAt: now - 60_000 });
  releases = discord.addChannel(world.guild.id, { kind: 'text', name: 'releases' });
  releaseNote = discord.seedMessages(releases.id, [
    { authorId: world.bob.id, content: 'Release 2.0 notes are drafted in the wiki' },
    { authorId: world.bob.id, content: 'unrelated: parking is closed tomorrow' },
  ], { endAt: now - 60_000 })[0]!;
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${harness.world.guild.id}/${channelId}/${messageId}`;

/** Asks with /ask in `channelId` and returns the answer posted in the thread it made. */
async function askIn(userId: string, channelId: string, text: string): Promise<ApiMessage> {
  const handle = harness.discord.sendInteraction({ type: 'command', name: 'ask', subcommand: 'question', userId, channelId, options: { text } });
  const reply = await handle.waitForFinal((m) => m.content.startsWith('Answered in'), 15_000);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  const threadId = /<#(\d+)>/.exec(reply.content)![1]!;
  return harness.discord.botMessages.filter((m) => m.channel_id === threadId && (m.flags & EPHEMERAL) === 0).at(-1)!;
}

/** Everything the model was sent for the latest chat call. */
function lastChatInput(): string {
  const call = model.calls.filter((c) => c.attachments?.task === 'chat').at(-1)!;
  return [call.system, ...call.turns.map((t) => t.content)].join('\n');
}

describe('/ask answers from channel history', () => {
  it('"what did we decide about the release?" is answered from the channel, citing the decision as a jump link', async () => {
    const { world } = harness;
    const answer = await askIn(world.alice.id, world.general.id, 'what did we decide about the release?');
    expect(answer.content).toContain('You asked: what did we decide about the release?');
    expect(answer.content).toMatch(/From the channel: (\[\[\d+\]\]\(https:\/\/discord\.com\/channels\/\d+\/\d+\/\d+\) ?)+/);
    expect(answer.content).toContain(`](${jump(world.general.id, decision.id)})`);
    expect(answer.content).toContain(`](${jump(world.general.id, question.id)})`);
    expect(answer.content).not.toContain(faraway.id);
    expect(answer.content).toContain(`-# Searched <#${world.general.id}> (42 recent messages)`);
    const sent = lastChatInput();
    expect(sent).toContain('ok, decision: we release 2.0 on Friday');
    expect(sent).not.toContain('the thai place');
  });

  it('a channel the asker cannot read, named in the question, is skipped and says so', async () => {
    const { world } = harness;
    const answer = await askIn(world.bob.id, world.general.id, `what did <#${world.secret.id}> say about the release?`);
    expect(answer.content).toContain(`-# Skipped <#${world.secret.id}>: you can't read its history`);
    expect(lastChatInput()).not.toContain('secret plan');
  });

  it('a channel the asker can read is skipped when others who see the answer cannot', async () => {
    const { world } = harness;
    const answer = await askIn(world.alice.id, world.general.id, `what did <#${world.secret.id}> say about the release?`);
    expect(answer.content).toContain(`-# Skipped <#${world.secret.id}>: not everyone who can see this thread can read it`);
    expect(lastChatInput()).not.toContain('secret plan');
  });

  it('a channel the bot cannot read is skipped; one everyone can read is searched too', async () => {
    const { world } = harness;
    const answer = await askIn(world.alice.id, world.general.id, `release notes? see <#${releases.id}> and <#${world.sealed.id}>`);
    expect(answer.content).toContain(`-# Searched <#${world.general.id}> (42 recent messages), <#${releases.id}> (2 recent messages)`);
    expect(answer.content).toContain(`-# Skipped <#${world.sealed.id}>: I can't read its history`);
    expect(answer.content).toContain(`](${jump(releases.id, releaseNote.id)})`);
    expect(lastChatInput()).not.toContain('release budget approved');
  });

  it('a mention answers from the channel too, leaving questions to the bot out of the history', async () => {
    const { discord, world } = harness;
    const start = discord.botMessages.length;
    const asked = discord.messageCreate({ channelId: world.general.id, authorId: world.bob.id, content: `<@${discord.bot.id}> what did we decide about the release?` });
    const answer = await discord.waitForBotMessage((m) => m.channel_id === asked.id && discord.botMessages.indexOf(m) >= start, 15_000);
    expect(answer.content).toContain(`](${jump(world.general.id, decision.id)})`);
    expect(answer.content).not.toContain(asked.id);
  });

  it('an answer drawn on a channel that closes to the thread’s readers while it is written is not posted', async () => {
    const { discord, world } = harness;
    const slow = new TranscribingProvider('slow', 'slow-1', 1_500);
    harness.useProvider(slow);
    try {
      const before = discord.botMessages.length;
      const handle = discord.sendInteraction({ type: 'command', name: 'ask', subcommand: 'question', userId: world.alice.id, channelId: world.general.id, options: { text: `release notes? see <#${releases.id}>` } });
      for (let i = 0; i < 500 && slow.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(slow.calls).toHaveLength(1);
      // An admin closes #releases to bob, who can see the answer's thread in #general.
      discord.setOverwrite(releases.id, { id: world.bob.id, type: 'member', deny: ['ViewChannel'] });
      const reply = await handle.waitForFinal((m) => m.content.includes('(ref `'), 15_000);
      expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(reply.content).toMatch(
        new RegExp(`^Permissions changed while I was answering \\(<#${releases.id}>: not everyone who can see this thread can read it\\), so I won't post the answer\\. Ask again\\.`),
      );
      const posted = discord.botMessages.slice(before).filter((m) => (m.flags & EPHEMERAL) === 0);
      expect(posted.map((m) => m.content).join('\n')).not.toContain('From the channel');
    } finally {
      harness.useProvider(model);
    }
  });

  it('offline, the local provider quotes the best-matching message with its jump link', async () => {
    const { world } = harness;
    harness.useProvider(createLocalProvider());
    try {
      const answer = await askIn(world.alice.id, world.general.id, 'what did we decide about the release?');
      const lines = answer.content.split('\n');
      expect(lines[0]).toContain('no language model is configured');
      const quotes = lines.filter((l) => l.startsWith('> '));
      expect(quotes[0]).toBe('> ok, decision: we release 2.0 on Friday; the migration ships in 2.1');
      expect(lines[lines.indexOf(quotes[0]!) + 1]).toMatch(new RegExp(`^— bob, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\[\\[\\d+\\]\\]\\(${jump(world.general.id, decision.id).replaceAll('/', '\\/')}\\)$`));
      expect(answer.content).toContain('-# local/local-extractive');
    } finally {
      harness.useProvider(model);
    }
  });
});

describe('the history a question reads is bounded', () => {
  async function request(question: string, limits: Partial<HistoryLimits> = {}): Promise<HistoryRequest> {
    const { world, bot, discord } = harness;
    const guild = bot.client.guilds.cache.get(world.guild.id)!;
    const channel = (id: string) => guild.channels.cache.get(id) as GuildTextBasedChannel;
    return {
      member: await guild.members.fetch(world.alice.id),
      askedIn: channel(world.general.id),
      answerIn: channel(world.thread.id) as ThreadChannel,
      question,
      botId: discord.bot.id,
      memberNames: createMemberNames(),
      limits,
    };
  }

  it('names past the channel limit are skipped with the limit', async () => {
    const { world } = harness;
    const gathered = await gatherHistory(await request(`<#${world.thread.id}> <#${world.post.id}> <#${world.sealed.id}>`, { maxChannels: 3 }));
    expect(gathered.histories.map((h) => h.channelId)).toEqual([world.general.id, world.thread.id, world.post.id]);
    expect(gathered.histories[2]!.prepared.messages.map((m) => m.text)).toEqual(['Proposal: ship a dark mode for the dashboard.']);
    expect(gathered.skipped).toEqual([{ channelId: world.sealed.id, reason: 'I search at most 3 channels per question' }]);
  });

  it('a read that outlasts the time budget is skipped, not waited for', async () => {
    const { discord, world } = harness;
    discord.rateLimit('GET /channels/:channelId/messages', { times: 1, retryAfterMs: 3_000 });
    const started = Date.now();
    const gathered = await gatherHistory(await request('release', { timeMs: 300 }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(gathered).toEqual({ histories: [], skipped: [{ channelId: world.general.id, reason: 'reading it took too long' }] });
  });
});

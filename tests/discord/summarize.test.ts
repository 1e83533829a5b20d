/**
 * /summarize in-process: the real discord.js client, dispatcher and command
 * against the Discord emulator, with the real prompt engine, router,
 * summarizer and stores over PGlite. Each test summarizes its own channel,
 * so no summary is answered from an earlier identical request by accident.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { EmbedColors, embedLength } from '../../src/discord/format/embed.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import type { OptionValue } from '../emulators/discord/interaction-payloads.ts';
import type { ApiMessage, InteractionHandle, StoredChannel } from '../emulators/discord/server.ts';
import { EPHEMERAL, OverloadedProvider, TranscribingProvider, startInProcessBot, type InProcessBot } from './support.ts';
import { summaryOf } from '../helpers/discord-messages.ts';

let database: DatabaseHandle;
let harness: InProcessBot;
let echo: EchoProvider;
let seq = 0;

beforeAll(async () => {
  database = await createPgliteDatabase();
  echo = new EchoProvider('echo', 'echo-large', 200_000);
  harness = await startInProcessBot({ database, provider: echo, progressIntervalMs: 0 });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
});

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${harness.world.guild.id}/${channelId}/${messageId}`;

/** A fresh text channel (in the Engineering category unless told) with messages spaced a minute apart, ending a minute ago. */
function channelWith(messages: Array<{ by: 'alice' | 'bob'; text: string; minutesAgo?: number }>, options: { parentId?: string | null } = {}): { channel: StoredChannel; ids: string[] } {
  const { discord, world } = harness;
  const parentId = options.parentId === undefined ? world.category.id : options.parentId;
  const channel = discord.addChannel(world.guild.id, { kind: 'text', name: `chan-${++seq}`, ...(parentId === null ? {} : { parentId }) });
  const now = Date.now();
  const seeded = discord.seedMessages(
    channel.id,
    messages.map((m, i) => ({ authorId: world[m.by].id, content: m.text, at: now - (m.minutesAgo ?? messages.length - i) * 60_000 })),
  );
  return { channel, ids: seeded.map((m) => m.id) };
}

function run(userId: string, options: Record<string, OptionValue> = {}, channelId = harness.world.general.id): InteractionHandle {
  return harness.discord.sendInteraction({ type: 'command', name: 'summarize', userId, channelId, options });
}

/** The ephemeral refusal or failure text (it carries the correlation id). */
async function failureOf(handle: InteractionHandle): Promise<ApiMessage> {
  const message = await handle.waitForFinal((m) => m.content.includes('(ref `'), 10_000);
  expect(message.flags & EPHEMERAL).toBe(EPHEMERAL);
  return message;
}

const descriptions = (messages: ApiMessage[]) => messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n');
const footerOf = (messages: ApiMessage[]) => messages.flatMap((m) => m.embeds).find((e) => e.footer)!.footer!.text;

describe('/summarize', () => {
  it('summarizes a channel publicly, citing the messages by jump link, with the footer naming prompt, model, size and cost', async () => {
    const { world } = harness;
    const { channel, ids } = channelWith([
      { by: 'alice', text: 'Is the release ready?' },
      { by: 'bob', text: `Tests are green, <@${world.alice.id}> can ship it` },
      { by: 'alice', text: 'Shipping on Friday then.' },
    ]);
    const before = echo.calls.length;

    const handle = run(world.alice.id, { channel: channel.id });
    const messages = await summaryOf(handle);

    // The member's own reply is ephemeral; the summary is public, in the channel.
    expect(handle.original!.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(handle.original!.content).toContain('Summarized 3 messages');
    expect(messages.every((m) => (m.flags & EPHEMERAL) === 0)).toBe(true);
    expect(harness.discord.state.message(handle.channelId, messages[0]!.id)).toBeDefined();

    const embed = messages[0]!.embeds[0]!;
    expect(embed.title).toBe(`Brief summary of #${channel.name}`);
    expect(embed.color).toBe(EmbedColors.info);
    expect(embed.description).toBe(`- 3 messages: ${ids.map((id, i) => `[[${i + 1}]](${jump(channel.id, id)})`).join('')}`);
    expect(footerOf(messages)).toMatch(/^Asked by Ally · Prompt bundled:summaries\/discussion\/brief\.md · echo\/echo-large · 3 messages · 1 chunk · \$0\.\d{4}$/);

    // What the model saw: oldest first, nicknames, mentions as names.
    const call = echo.calls[before]!;
    expect(call.refs).toEqual([1, 2, 3]);
    const transcript = call.turns[0]!.content;
    expect(transcript).toContain('Ally: Is the release ready?');
    expect(transcript).toContain('bob: Tests are green, @Ally can ship it');
    expect(transcript).toContain('Channel: #chan-');
    expect(transcript).toContain('(category Engineering)');
  });

  it('summarizes a thread and a forum post, linking to their own messages', async () => {
    const { discord, world } = harness;
    const [plan] = discord.seedMessages(world.thread.id, [{ authorId: world.alice.id, content: 'Plan: freeze on Monday' }], { endAt: Date.now() - 120_000 });
    const [reply] = discord.seedMessages(world.thread.id, [
      { authorId: world.bob.id, content: 'Agreed, and docs by Tuesday', replyTo: plan!.id, attachments: [{ filename: 'notes.txt', content: 'draft' }] },
    ]);
    let before = echo.calls.length;
    const fromChannel = await summaryOf(run(world.alice.id, { channel: world.thread.id }));
    expect(fromChannel[0]!.embeds[0]!.title).toBe('Brief summary of #planning');
    expect(descriptions(fromChannel)).toContain(`[[2]](${jump(world.thread.id, reply!.id)})`);
    expect(echo.calls[before]!.turns[0]!.content).toMatch(/\[2\] \S+ \S+ UTC bob \(replying to \[1\]\): Agreed, and docs by Tuesday \[file: notes\.txt\]/);

    before = echo.calls.length;
    discord.seedMessages(world.post.id, [{ authorId: world.alice.id, content: 'Yes please, my eyes hurt at night' }], { endAt: Date.now() });
    const post = await summaryOf(run(world.bob.id, {}, world.post.id));
    expect(post[0]!.embeds[0]!.title).toBe('Brief summary of #dark mode');
    // The starter message shares the post's id.
    expect(descriptions(post)).toContain(`(${jump(world.post.id, world.post.id)})`);
    const transcript = echo.calls[before]!.turns[0]!.content;
    expect(transcript).toContain('Proposal: ship a dark mode for the dashboard.');
    expect(transcript).toContain('Thread: dark mode');
  });

  it('keeps to a `since` duration, and to everything from a message link on', async () => {
    const { world } = harness;
    const { channel, ids } = channelWith([
      { by: 'alice', text: 'old one', minutesAgo: 300 },
      { by: 'bob', text: 'old two', minutesAgo: 200 },
      { by: 'alice', text: 'recent one', minutesAgo: 40 },
      { by: 'bob', text: 'recent two', minutesAgo: 20 },
    ]);
    let before = echo.calls.length;
    const recent = await summaryOf(run(world.alice.id, { channel: channel.id, since: '1h' }));
    expect(footerOf(recent)).toContain('· 2 messages ·');
    expect(echo.calls[before]!.turns[0]!.content).toContain('recent one');
    expect(echo.calls[before]!.turns[0]!.content).not.toContain('old two');
    expect(descriptions(recent)).toContain(`[[1]](${jump(channel.id, ids[2]!)})`);

    before = echo.calls.length;
    // The link alone names the channel.
    const after = await summaryOf(run(world.alice.id, { since: jump(channel.id, ids[1]!) }));
    expect(footerOf(after)).toContain('· 3 messages ·');
    expect(echo.calls[before]!.turns[0]!.content).not.toContain('old one');
    expect(echo.calls[before]!.turns[0]!.content).toContain('old two');

    const tooLong = await handleReply(run(world.alice.id, { channel: channel.id, since: '20d' }));
    expect(tooLong.content).toMatch(/^`since`: "20d" is longer than the maximum of 2w .*\(ref `[0-9a-f]{8}`\)$/);
    const elsewhere = await handleReply(run(world.alice.id, { channel: world.general.id, since: jump(channel.id, ids[0]!) }));
    expect(elsewhere.content).toContain(`That message link is in <#${channel.id}>, not in <#${world.general.id}>`);
  });

  it('refuses a member who cannot read the channel, and a channel the bot cannot read, without reading it', async () => {
    const { discord, world } = harness;
    discord.seedMessages(world.secret.id, [{ authorId: world.alice.id, content: 'the acquisition closes on Friday' }]);
    const refused = await handleReply(run(world.bob.id, { channel: world.secret.id }));
    expect(refused.content).toMatch(new RegExp(`^You can't read the history of <#${world.secret.id}>, so I won't summarize it for you\\. \\(ref \`[0-9a-f]{8}\`\\)$`));
    const sealed = await handleReply(run(world.alice.id, { channel: world.sealed.id }));
    expect(sealed.content).toContain(`I can't read the history of <#${world.sealed.id}>: I need the View Channel and Read Message History permissions there.`);
    expect(discord.requests.filter((r) => r.route === 'GET /channels/:channelId/messages' && (r.path.includes(world.secret.id) || r.path.includes(world.sealed.id)))).toEqual([]);
    // The secret never reached a model.
    expect(echo.calls.some((c) => c.turns.some((t) => t.content.includes('acquisition')))).toBe(false);
  });

  it('says when there is nothing to summarize in the window', async () => {
    const { channel } = channelWith([{ by: 'alice', text: 'an old note', minutesAgo: 180 }]);
    const empty = await failureOf(run(harness.world.alice.id, { channel: channel.id, since: '30m' }));
    expect(empty.content).toMatch(new RegExp(`^Nothing to summarize: #${channel.name} has no messages in the requested range\\. Try a longer \`since\`\\. \\(ref \`[0-9a-f]{8}\`\\)$`));
  });

  it('says the model providers are unavailable when every call fails', async () => {
    const busy = new OverloadedProvider();
    harness.useProvider(busy);
    try {
      const { channel } = channelWith([{ by: 'alice', text: 'anyone there?' }]);
      const failed = await failureOf(run(harness.world.alice.id, { channel: channel.id }));
      expect(failed.content).toMatch(/^The model providers are unavailable right now; please try again in a few minutes\. \(ref `[0-9a-f]{8}`\)$/);
      expect(busy.calls).toBeGreaterThan(0);
    } finally {
      harness.useProvider(echo);
    }
  });

  it('splits a long summary across embeds and messages within Discord limits, code blocks intact, words whole', async () => {
    const writer = new TranscribingProvider();
    harness.useProvider(writer);
    try {
      const code = ['```ts', ...Array.from({ length: 60 }, (_, i) => `const step${i} = await run(${i}); // keep going`), '```'].join('\n');
      const prose = (i: number) => `Update ${i}: ${'we reviewed the rollout plan, the metrics and the open risks together '.repeat(8)}`;
      const { channel } = channelWith([
        ...Array.from({ length: 8 }, (_, i) => ({ by: (i % 2 ? 'bob' : 'alice') as 'alice' | 'bob', text: prose(i) })),
        { by: 'bob', text: `Here is the script:\n${code}` },
        { by: 'alice', text: prose(9) },
      ]);
      const messages = await summaryOf(run(harness.world.alice.id, { channel: channel.id, type: 'comprehensive' }));
      const summary = messages;
      expect(summary.length).toBeGreaterThan(1);
      for (const message of summary) {
        expect(message.embeds.length).toBeLessThanOrEqual(10);
        expect(message.embeds.reduce((n, e) => n + embedLength(e as never), 0)).toBeLessThanOrEqual(6_000);
        for (const embed of message.embeds) {
          expect(embed.description!.length).toBeLessThanOrEqual(4_096);
          expect((embed.description!.match(/^.*```.*$/gm) ?? []).length % 2).toBe(0);
        }
      }
      const text = descriptions(summary);
      // Every line of the script arrives once, inside a ts block.
      for (let i = 0; i < 60; i++) expect(text.match(new RegExp(`const step${i} = await run\\(${i}\\); // keep going`, 'g'))).toHaveLength(1);
      // Words whole: every word of the prose is there as many times as written.
      const expected = Array.from({ length: 10 }, (_, i) => (i === 8 ? '' : prose(i))).join(' ').split(/\s+/).filter((w) => w.endsWith('together')).length;
      expect(text.match(/\btogether\b/g)).toHaveLength(expected);
      expect(text).not.toMatch(/\btogeth\b|\bogether\b/);
    } finally {
      harness.useProvider(echo);
    }
  });

  it('keeps the whole exchange ephemeral when private', async () => {
    const { channel } = channelWith([{ by: 'alice', text: 'private matters' }, { by: 'bob', text: 'indeed' }]);
    const botMessagesBefore = harness.discord.botMessages.filter((m) => (m.flags & EPHEMERAL) === 0).length;
    const handle = run(harness.world.alice.id, { channel: channel.id, private: true });
    const messages = await summaryOf(handle);
    expect(handle.callback?.data?.['flags']).toBe(EPHEMERAL);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === EPHEMERAL)).toBe(true);
    expect(footerOf(messages)).toMatch(/^Prompt bundled:/);
    expect(harness.discord.botMessages.filter((m) => (m.flags & EPHEMERAL) === 0)).toHaveLength(botMessagesBefore);
  });

  it('reads history 100 messages per request, bounded by the count, and shows progress', async () => {
    const { discord, world } = harness;
    const channel = discord.addChannel(world.guild.id, { kind: 'text', name: `busy-${++seq}` });
    discord.seedMessages(channel.id, 250, { authorIds: [world.alice.id, world.bob.id] });
    const reads = () => discord.requests.filter((r) => r.route === 'GET /channels/:channelId/messages' && r.path.includes(channel.id));

    const handle = run(world.alice.id, { channel: channel.id, messages: 250 });
    expect(footerOf(await summaryOf(handle))).toContain('· 250 messages ·');
    expect(reads().map((r) => r.query['limit'])).toEqual(['100', '100', '50']);
    expect(reads()[0]!.query['before']).toBeUndefined();
    expect(reads()[1]!.query['before']).toBeDefined();
    expect(handle.originalHistory.map((s) => s.message.content)).toContain(`Reading <#${channel.id}>… 100 messages so far`);

    const count = reads().length;
    await summaryOf(run(world.alice.id, { channel: channel.id }));
    // Default: the last 100, one request.
    expect(reads().slice(count).map((r) => r.query['limit'])).toEqual(['100']);
  });

  it('uses the guild category map for the default category', async () => {
    const { world } = harness;
    await database.db
      .insertInto('guild_settings')
      .values({ guild_id: world.guild.id, settings: JSON.stringify({ categoryMap: { engineering: 'meeting' } }), updated_at: new Date(), updated_by: 'test' })
      .execute();
    try {
      const { channel } = channelWith([{ by: 'alice', text: 'standup: all good' }]);
      expect(footerOf(await summaryOf(run(world.alice.id, { channel: channel.id })))).toContain('Prompt bundled:summaries/meeting/brief.md');
      const other = channelWith([{ by: 'alice', text: 'not in a category' }], { parentId: null });
      expect(footerOf(await summaryOf(run(world.alice.id, { channel: other.channel.id })))).toContain('Prompt bundled:summaries/discussion/brief.md');
      const explicit = channelWith([{ by: 'bob', text: 'moderation notes' }]);
      expect(footerOf(await summaryOf(run(world.alice.id, { channel: explicit.channel.id, category: 'moderation' })))).toContain('Prompt bundled:summaries/moderation/brief.md');
    } finally {
      await database.db.deleteFrom('guild_settings').where('guild_id', '=', world.guild.id).execute();
    }
  });

  it('suggests types, perspectives and categories filtered by what was typed', async () => {
    const choices = async (focused: string, typed: string): Promise<string[]> => {
      const handle = harness.discord.sendInteraction({ type: 'autocomplete', name: 'summarize', userId: harness.world.alice.id, channelId: harness.world.general.id, focused, options: { [focused]: typed } });
      return (await handle.waitForChoices()).map((c) => String(c['value']));
    };
    expect(await choices('type', 'act')).toEqual(['action_items']);
    expect(await choices('type', '')).toEqual(['brief', 'detailed', 'comprehensive', 'action_items']);
    expect(await choices('perspective', 'dev')).toEqual(['developer']);
    expect(await choices('category', 'mee')).toEqual(['meeting']);
  });
});

/** The first visible answer (a refusal before any defer is a type-4 ephemeral reply). */
async function handleReply(handle: InteractionHandle): Promise<ApiMessage> {
  const message = await handle.waitForReply(10_000);
  expect(message.flags & EPHEMERAL).toBe(EPHEMERAL);
  return message;
}

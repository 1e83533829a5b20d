/**
 * `/prompt-config test` promises the prompt "as /summarize would make it":
 * for the same channel, options and member, both render the same context.
 * The guild's repository renders every shared variable into one line, so
 * the line the model was sent by /summarize (seen by the provider) and the
 * line `/prompt-config test` shows must be the same, category map, display
 * name and option normalisation included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createPromptConfigCommand } from '../../src/discord/commands/prompt-config.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import { GitHubEmulator } from '../emulators/github/server.ts';
import type { ApiMessage, StoredChannel, StoredUser } from '../emulators/discord/server.ts';
import { EPHEMERAL, startInProcessBot, type InProcessBot } from './support.ts';

const PATH = `version: v2
routes:
  by_category: "prompts/{category}/{type}.md"
  global: "prompts/default.md"
`;
const BODY = 'ctx category={category} type={type} perspective={perspective} user={user} channel={channel} channel_id={channel_id} guild={guild} locale={locale}\n{messages}\n';
const CTX_LINE = /^ctx .*$/m;

let database: DatabaseHandle;
let github: GitHubEmulator;
let harness: InProcessBot;
let echo: EchoProvider;
/** A Manage Server member whose server nickname differs from the username. */
let admin: StoredUser;
let seq = 0;

beforeAll(async () => {
  database = await createPgliteDatabase();
  github = new GitHubEmulator({ quota: { anonymous: 10_000, authenticated: 10_000 } });
  const { baseUrl } = await github.start();
  github.createRepo('acme/context-prompts', { files: { PATH, 'prompts/default.md': BODY } });
  echo = new EchoProvider('echo', 'echo-large', 100_000);
  harness = await startInProcessBot({
    database,
    provider: echo,
    githubApiUrl: baseUrl,
    progressIntervalMs: 0,
    commands: (defaults) => [...defaults, createPromptConfigCommand()],
  });
  const { discord, world } = harness;
  admin = discord.addUser({ username: 'carol', globalName: 'Carol G' });
  discord.addMember(world.guild.id, admin.id, { nick: 'Caz', permissions: ['ManageGuild'] });
  const inspected = await harness.services.prompts.inspect({ guildId: world.guild.id, repoUrl: 'https://github.com/acme/context-prompts' });
  if (!inspected.ok) throw new Error(inspected.message);
  await harness.services.prompts.saveConfig({ ...inspected.config, actorId: 'admin' });
  // The guild maps its Discord category "Engineering" (by name) to the prompt category "meeting".
  await database.db
    .insertInto('guild_settings')
    .values({ guild_id: world.guild.id, settings: JSON.stringify({ categoryMap: { engineering: 'meeting' } }), updated_at: new Date(), updated_by: 'test' })
    .execute();
});

afterAll(async () => {
  await harness?.close();
  await github?.close();
  await database?.close();
});

type Place = 'in a mapped category' | 'outside any category' | 'a thread under a mapped category';

/** A fresh channel (or thread) with two messages, so no summary is reused from an earlier test. */
function channelAt(place: Place): StoredChannel {
  const { discord, world } = harness;
  const name = `ctx-${++seq}`;
  const channel =
    place === 'in a mapped category'
      ? discord.addChannel(world.guild.id, { kind: 'text', name, parentId: world.category.id })
      : place === 'outside any category'
        ? discord.addChannel(world.guild.id, { kind: 'text', name })
        : discord.addChannel(world.guild.id, { kind: 'thread', name, parentId: world.general.id, ownerId: admin.id });
  discord.seedMessages(channel.id, [
    { authorId: world.alice.id, content: 'Should we cut the release today?' },
    { authorId: world.bob.id, content: 'Yes, after the last review.' },
  ]);
  return channel;
}

/** The context line of the system prompt /summarize sent the model. */
async function summarizeLine(channel: StoredChannel, options: Record<string, string>, locale: string): Promise<string> {
  const before = echo.calls.length;
  const handle = harness.discord.sendInteraction({ type: 'command', name: 'summarize', userId: admin.id, channelId: channel.id, options, locale });
  await handle.waitFor((h) => h.followUps.map((f) => f.message).find((m: ApiMessage) => m.embeds.some((e) => e.footer)), 10_000, 'the summary');
  const call = echo.calls.slice(before).find((c) => c.task === 'summarize');
  expect(call).toBeDefined();
  return lineOf(call!.system);
}

/** The context line of the prompt `/prompt-config test` rendered, run from #general about `channel`. */
async function testLine(channel: StoredChannel, options: Record<string, string>, locale: string): Promise<{ line: string; reply: ApiMessage }> {
  const handle = harness.discord.sendInteraction({
    type: 'command',
    name: 'prompt-config',
    subcommand: 'test',
    userId: admin.id,
    channelId: harness.world.general.id,
    options: { ...options, channel: channel.id },
    locale,
  });
  const reply = await handle.waitForFinal((m) => m.embeds.some((e) => e.title?.startsWith('Prompt resolution') === true), 10_000);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return { line: lineOf(reply.content), reply };
}

function lineOf(text: string): string {
  const match = CTX_LINE.exec(text);
  expect(match, `no context line in:\n${text}`).not.toBeNull();
  return match![0];
}

describe('/prompt-config test and /summarize build one context', () => {
  it.each<{ place: Place; options: Record<string, string>; locale: string; expected: string }>([
    {
      place: 'in a mapped category',
      options: { type: 'Action  Items', perspective: ' Developer ' },
      locale: 'en-GB',
      expected: 'category=meeting type=action_items perspective=developer user=Caz',
    },
    {
      place: 'outside any category',
      options: {},
      locale: 'fr',
      expected: 'category=discussion type=brief perspective=general user=Caz',
    },
    {
      place: 'a thread under a mapped category',
      options: { type: 'detailed' },
      locale: 'en-US',
      expected: 'category=meeting type=detailed perspective=general user=Caz',
    },
    {
      place: 'in a mapped category',
      options: { category: 'Moderation' },
      locale: 'en-US',
      expected: 'category=moderation type=brief perspective=general user=Caz',
    },
  ])('$place, options $options: the same variables', async ({ place, options, locale, expected }) => {
    const channel = channelAt(place);
    const summarized = await summarizeLine(channel, options, locale);
    const { line: tested, reply } = await testLine(channel, options, locale);

    expect(tested).toBe(summarized);
    // `{locale}` is the server's preferred locale (en-US here), whatever the asker's client runs in.
    expect(summarized).toBe(`ctx ${expected} channel=${channel.name} channel_id=${channel.id} guild=acme locale=en-US`);
    // The report's own list of the request context agrees with what was rendered.
    const contextField = reply.embeds[0]!.fields!.find((f) => f.name === 'Request context')!.value;
    for (const pair of expected.split(' ')) expect(contextField).toContain(pair.replace('=', ' = '));
  });

  it('refuses an option that is no route segment the same way in both', async () => {
    const channel = channelAt('in a mapped category');
    const answers = await Promise.all(
      (['summarize', 'prompt-config'] as const).map(async (name) => {
        const handle = harness.discord.sendInteraction({
          type: 'command',
          name,
          ...(name === 'prompt-config' ? { subcommand: 'test' } : {}),
          userId: admin.id,
          channelId: channel.id,
          options: { type: 'brief/../../etc' },
        });
        const reply = await handle.waitForFinal((m) => m.content.includes('(ref `'), 10_000);
        expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
        return reply.content.replace(/ \(ref `[0-9a-f]+`\)$/, '');
      }),
    );
    expect(answers[0]).toBe('`type` takes letters, digits, "-" and "_" only (for example `brief` or `action_items`).');
    expect(answers[1]).toBe(answers[0]);
  });
});

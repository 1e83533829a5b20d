import { once } from 'node:events';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  ModalBuilder,
  PermissionFlagsBits,
  RESTEvents,
  TextInputBuilder,
  TextInputStyle,
  type ClientOptions,
  type GuildMember,
  type Interaction,
  type Message,
  type TextChannel,
} from 'discord.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ManualClock } from '../../src/resilience/clock.ts';
import { startDiscordEmulator, type DiscordEmulator, type DiscordEmulatorOptions } from './discord/server.ts';

const TOKEN = 'test-bot-token';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Clients first, so they do not try to reconnect to a closed emulator.
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function emulator(options: DiscordEmulatorOptions = {}): Promise<DiscordEmulator> {
  const discord = await startDiscordEmulator({ botToken: TOKEN, heartbeatIntervalMs: 200, ...options });
  cleanups.push(async () => {
    await discord.close();
    expect(discord.internalErrors).toEqual([]);
  });
  return discord;
}

/** A typical guild: category with a text channel, a thread, a forum with a post, two members. */
function seedGuild(discord: DiscordEmulator) {
  const guild = discord.addGuild({ name: 'acme' });
  const staff = discord.addRole(guild.id, { name: 'staff', permissions: ['ManageMessages'] });
  const category = discord.addChannel(guild.id, { kind: 'category', name: 'work' });
  const general = discord.addChannel(guild.id, { kind: 'text', name: 'general', parentId: category.id });
  const secret = discord.addChannel(guild.id, {
    kind: 'text',
    name: 'secret',
    overwrites: [
      { id: guild.id, type: 'role', deny: ['ViewChannel'] },
      { id: staff.id, type: 'role', allow: ['ViewChannel'] },
    ],
  });
  const thread = discord.addChannel(guild.id, { kind: 'thread', name: 'incident', parentId: general.id });
  const forum = discord.addChannel(guild.id, { kind: 'forum', name: 'ideas', availableTags: ['bug', 'idea'] });
  const alice = discord.addMember(guild.id, { username: 'alice' });
  const bob = discord.addMember(guild.id, { username: 'bob' }, { roles: [staff.id] });
  const post = discord.addChannel(guild.id, {
    kind: 'forum-post',
    name: 'dark mode',
    parentId: forum.id,
    appliedTags: ['idea'],
    ownerId: alice.userId,
    starter: { authorId: alice.userId, content: 'Please add dark mode' },
  });
  return { guild, staff, category, general, secret, thread, forum, post, alice, bob };
}

async function login(discord: DiscordEmulator, options: Partial<ClientOptions> = {}): Promise<Client> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: discord.apiUrl },
    ...options,
  });
  const errors: Error[] = [];
  client.on(Events.Error, (error) => errors.push(error));
  cleanups.push(async () => {
    await client.destroy();
    expect(errors).toEqual([]);
  });
  // clientReady can fire before login() resolves, so listen first.
  const ready = once(client, Events.ClientReady);
  await client.login(TOKEN);
  await ready;
  return client;
}

/** Runs `handler` for each interaction, collecting failures instead of crashing the listener. */
function onInteraction(client: Client, handler: (interaction: Interaction) => Promise<void>): unknown[] {
  const failures: unknown[] = [];
  client.on(Events.InteractionCreate, (interaction) => {
    handler(interaction).catch((error: unknown) => failures.push(error));
  });
  return failures;
}

describe('Discord emulator with a real discord.js client', () => {
  it('logs in over REST + gateway and caches guilds, channels, roles and the bot member', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);

    const guild = client.guilds.cache.get(world.guild.id);
    expect(guild?.name).toBe('acme');
    expect(guild?.memberCount).toBe(4); // owner, bot, alice, bob
    expect(guild?.channels.cache.get(world.category.id)?.type).toBe(ChannelType.GuildCategory);
    expect(guild?.channels.cache.get(world.general.id)?.type).toBe(ChannelType.GuildText);
    expect(guild?.channels.cache.get(world.forum.id)?.type).toBe(ChannelType.GuildForum);
    const thread = guild?.channels.cache.get(world.thread.id);
    expect(thread?.type).toBe(ChannelType.PublicThread);
    expect(thread?.isThread() && thread.parentId).toBe(world.general.id);
    const post = guild?.channels.cache.get(world.post.id);
    expect(post?.isThread() && post.parent?.type).toBe(ChannelType.GuildForum);
    expect(guild?.roles.everyone.id).toBe(world.guild.id);
    expect(guild?.roles.cache.get(world.staff.id)?.permissions.has(PermissionFlagsBits.ManageMessages)).toBe(true);
    expect(guild?.members.me?.id).toBe(discord.bot.id);
    // The bot's permissions come from its managed role; secret denies @everyone.
    expect(guild?.members.me?.permissionsIn(world.general.id).has(PermissionFlagsBits.SendMessages)).toBe(true);
    expect(guild?.members.me?.permissionsIn(world.secret.id).has(PermissionFlagsBits.ViewChannel)).toBe(false);

    const [session] = discord.gateway.sessions;
    expect(session?.shard).toEqual([0, 1]);
    expect(session?.intents).toBe(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent);
    expect(session?.compress).toBe(false);
    expect(session?.initialGuildIds).toEqual([world.guild.id]);
    await vi.waitFor(() => expect(session?.heartbeats).toBeGreaterThan(0), { timeout: 3_000 });
    const gatewayCall = discord.requests.find((r) => r.route === 'GET /gateway/bot');
    expect(gatewayCall).toMatchObject({ status: 200, auth: 'bot' });
    expect(JSON.stringify(discord.requests)).not.toContain(TOKEN);
  });

  it('answers 401 to a wrong bot token and closes the gateway on a bad IDENTIFY', async () => {
    const discord = await emulator();
    const res = await fetch(`${discord.apiUrl}/v10/users/@me`, { headers: { authorization: 'Bot wrong' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    expect(discord.requests.at(-1)).toMatchObject({ route: 'GET /users/@me', status: 401, auth: 'invalid' });

    const ws = new WebSocket(`${discord.gatewayUrl}?v=10&encoding=json`);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data) => {
      const payload = JSON.parse(String(data)) as { op: number };
      if (payload.op === 10) ws.send(JSON.stringify({ op: 2, d: { token: 'nope', intents: 1, properties: {} } }));
    });
    expect(await closed).toBe(4004);
  });

  it('defers ephemerally, edits the reply and sends a follow-up with a file', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    await client.application?.commands.set([
      {
        name: 'recap',
        description: 'Summarize this channel',
        options: [{ name: 'hours', description: 'How far back', type: 4, required: true }],
      },
    ]);
    expect(discord.commands.list(null).map((c) => c['name'])).toEqual(['recap']);

    const seen: { hours: number | null; channelName: string | undefined; locale: string }[] = [];
    const failures = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      seen.push({
        hours: interaction.options.getInteger('hours'),
        channelName: (interaction.channel as TextChannel | null)?.name,
        locale: interaction.locale,
      });
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.editReply('Summary ready');
      await interaction.followUp({ content: 'Details attached', files: [{ attachment: Buffer.from('# Recap\n'), name: 'recap.md' }] });
    });

    const handle = discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: world.alice.userId, name: 'recap', options: { hours: 24 } });
    const final = await handle.waitForFinal((m) => m.content === 'Summary ready');
    const followUp = await handle.waitForFollowUp();

    expect(failures).toEqual([]);
    expect(seen).toEqual([{ hours: 24, channelName: 'general', locale: 'en-US' }]);
    expect(handle.callback?.type).toBe(5);
    expect(handle.originalHistory.map((s) => s.pending)).toEqual([true, false]);
    expect(final.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(followUp.content).toBe('Details attached');
    expect(followUp.attachments.map((a) => [a.filename, a.size])).toEqual([['recap.md', 8]]);
    expect(handle.files.map((f) => f.content.toString())).toEqual(['# Recap\n']);
    // Ephemeral replies stay out of the channel; the public follow-up is a channel message.
    const history = discord.state.messages(world.general.id).map((m) => m.id);
    expect(history).toContain(followUp.id);
    expect(history).not.toContain(final.id);
    const download = await fetch(followUp.attachments[0]?.url ?? '');
    expect(await download.text()).toBe('# Recap\n');
  });

  it('shows a modal and receives its submission, and handles a button click', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    await client.application?.commands.set([
      { name: 'feedback', description: 'Send feedback' },
      { name: 'panel', description: 'Show a panel' },
    ]);

    const failures = onInteraction(client, async (interaction) => {
      if (interaction.isChatInputCommand() && interaction.commandName === 'feedback') {
        const modal = new ModalBuilder()
          .setCustomId('feedback-modal')
          .setTitle('Feedback')
          .addComponents(
            new ActionRowBuilder<TextInputBuilder>().addComponents(
              new TextInputBuilder().setCustomId('topic').setLabel('Topic').setStyle(TextInputStyle.Short),
            ),
          );
        await interaction.showModal(modal);
      } else if (interaction.isModalSubmit()) {
        await interaction.reply({ content: `Thanks for "${interaction.fields.getTextInputValue('topic')}"`, flags: MessageFlags.Ephemeral });
      } else if (interaction.isChatInputCommand() && interaction.commandName === 'panel') {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('refresh').setLabel('Refresh').setStyle(ButtonStyle.Primary),
        );
        await interaction.reply({ content: 'Panel v1', components: [row] });
      } else if (interaction.isButton()) {
        await interaction.update({ content: `Panel v2 (clicked by ${interaction.user.username})`, components: [] });
      }
    });

    const command = discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: world.alice.userId, name: 'feedback' });
    const modal = await command.waitForModal();
    expect(modal).toMatchObject({ custom_id: 'feedback-modal', title: 'Feedback' });

    const submit = discord.sendInteraction({ type: 'modal-submit', from: command, userId: world.alice.userId, fields: { topic: 'dark mode' } });
    expect((await submit.waitForReply()).content).toBe('Thanks for "dark mode"');

    const panel = discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: world.bob.userId, name: 'panel' });
    const shown = await panel.waitForReply();
    expect(shown.components).toHaveLength(1);
    expect(() => discord.sendInteraction({ type: 'button', customId: 'missing', message: panel, userId: world.bob.userId })).toThrow(/no component/);

    const click = discord.sendInteraction({ type: 'button', customId: 'refresh', message: shown.id, channelId: world.general.id, userId: world.bob.userId });
    const updated = await click.waitForReply();
    expect(click.callback?.type).toBe(7);
    expect(updated.content).toBe('Panel v2 (clicked by bob)');
    // The panel was a public reply, so the update shows in the channel history too.
    expect(discord.state.message(world.general.id, shown.id)?.content).toBe('Panel v2 (clicked by bob)');
    expect(failures).toEqual([]);
  });

  it('answers autocomplete with choices', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    await client.application?.commands.set([
      { name: 'prompt', description: 'Pick a prompt', options: [{ name: 'name', description: 'Prompt', type: 3, autocomplete: true }] },
    ]);
    const failures = onInteraction(client, async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      await interaction.respond(['daily', 'weekly'].filter((n) => n.startsWith(typed)).map((n) => ({ name: n, value: n })));
    });
    const handle = discord.sendInteraction({ type: 'autocomplete', channelId: world.general.id, userId: world.alice.userId, name: 'prompt', focused: 'name', options: { name: 'we' } });
    expect(await handle.waitForChoices()).toEqual([{ name: 'weekly', value: 'weekly' }]);
    expect(failures).toEqual([]);
  });

  it('pages through 250 messages of history 100 at a time', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const seeded = discord.seedMessages(world.general.id, 250);
    const client = await login(discord);
    const channel = client.channels.cache.get(world.general.id) as TextChannel;

    const fetched: Message[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await channel.messages.fetch({ limit: 100, ...(before ? { before } : {}) });
      fetched.push(...page.values());
      if (page.size < 100) break;
      before = page.lastKey();
    }
    expect(fetched.map((m) => m.id)).toEqual(seeded.map((m) => m.id).reverse());
    const oldest = fetched.at(-1);
    const newest = fetched[0];
    expect(oldest?.author.bot).toBe(false);
    expect(oldest?.content).toContain('(#1)');
    expect(newest?.createdTimestamp).toBeGreaterThan(oldest?.createdTimestamp ?? Infinity);
    const pages = discord.requests.filter((r) => r.route === 'GET /channels/:channelId/messages');
    expect(pages.map((r) => r.query['limit'])).toEqual(['100', '100', '100']);
  });

  it('has discord.js wait out an injected 429 and retry', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    const limited: number[] = [];
    client.rest.on(RESTEvents.RateLimited, (info) => limited.push(info.retryAfter));
    discord.rateLimit('POST /channels/:channelId/messages', { times: 1, retryAfterMs: 150 });

    const channel = client.channels.cache.get(world.general.id) as TextChannel;
    const sent = await channel.send('hello after a wait');

    expect(sent.content).toBe('hello after a wait');
    const posts = discord.requests.filter((r) => r.route === 'POST /channels/:channelId/messages');
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[0]?.error).toEqual({ message: 'You are being rate limited.', retry_after: 0.15, global: false });
    expect(limited).toHaveLength(1);
    expect(limited[0]).toBeGreaterThanOrEqual(150); // discord.js adds its own safety offset
    // The retry came no sooner than retry_after (a lower bound, so not timing-sensitive).
    expect((posts[1]?.startedAt ?? 0) - (posts[0]?.startedAt ?? 0)).toBeGreaterThanOrEqual(145);
    await expect(discord.waitForBotMessage((m) => m.id === sent.id)).resolves.toBeDefined();
  });

  it('rejects messages over Discord limits with 400 Invalid Form Body', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    const channel = client.channels.cache.get(world.general.id) as TextChannel;

    const tooLong = await channel.send('x'.repeat(2001)).catch((error: unknown) => error);
    expect(tooLong).toBeInstanceOf(DiscordAPIError);
    expect(tooLong).toMatchObject({ status: 400, code: 50035 });
    expect((tooLong as DiscordAPIError).rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } },
    });

    const bigEmbeds = Array.from({ length: 2 }, () => ({ description: 'y'.repeat(3500) }));
    const tooBig = await channel.send({ embeds: bigEmbeds }).catch((error: unknown) => error);
    expect((tooBig as DiscordAPIError).message).toContain('MAX_EMBED_SIZE_EXCEEDED');
    expect(await channel.send('x'.repeat(2000))).toBeDefined();
    expect(discord.state.messages(world.general.id)).toHaveLength(1);
  });

  it('computes member permissions with channel overwrites like Discord', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    discord.setOverwrite(world.general.id, { id: world.alice.userId, type: 'member', deny: ['SendMessages'] });
    const client = await login(discord);
    await client.application?.commands.set([{ name: 'whoami', description: 'Permissions check' }]);

    const observed = new Map<string, { here: bigint; secret: boolean; app: bigint }>();
    const failures = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand() || !interaction.inCachedGuild()) return;
      const secret = interaction.guild.channels.cache.get(world.secret.id);
      observed.set(interaction.user.id, {
        here: interaction.memberPermissions.bitfield,
        secret: secret?.permissionsFor(interaction.member as GuildMember)?.has(PermissionFlagsBits.ViewChannel) ?? false,
        app: interaction.appPermissions.bitfield,
      });
      await interaction.reply({ content: 'ok', flags: MessageFlags.Ephemeral });
    });

    for (const member of [world.alice, world.bob]) {
      await discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: member.userId, name: 'whoami' }).waitForReply();
    }
    expect(failures).toEqual([]);
    const alice = observed.get(world.alice.userId);
    const bob = observed.get(world.bob.userId);
    expect(alice?.here).toBe(discord.permissionsFor(world.general.id, world.alice.userId));
    expect((alice?.here ?? 0n) & PermissionFlagsBits.SendMessages).toBe(0n);
    expect((bob?.here ?? 0n) & PermissionFlagsBits.SendMessages).toBe(PermissionFlagsBits.SendMessages);
    expect(alice?.secret).toBe(false);
    expect(bob?.secret).toBe(true);
    expect(alice?.app).toBe(discord.permissionsFor(world.general.id, discord.bot.id));
    // A member cannot act in a channel they cannot see.
    expect(() => discord.sendInteraction({ type: 'command', channelId: world.secret.id, userId: world.alice.userId, name: 'whoami' })).toThrow(/cannot see/);
  });

  it('refuses a callback after the acknowledgement deadline, and a second callback', async () => {
    const clock = new ManualClock(Date.now());
    const discord = await emulator({ clock, ackDeadlineMs: 3_000 });
    const world = seedGuild(discord);
    const client = await login(discord);
    await client.application?.commands.set([{ name: 'slow', description: 'Answers late' }, { name: 'fast', description: 'Answers' }]);

    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
    const outcomes: unknown[] = [];
    const failures = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      if (interaction.commandName === 'slow') await slowGate;
      outcomes.push(await interaction.reply('done').then(() => 'ok', (error: unknown) => error));
    });

    const slow = discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: world.alice.userId, name: 'slow' });
    clock.advance(3_001);
    releaseSlow();
    const rejection = await slow.waitForRejection();
    expect(rejection).toMatchObject({ status: 404, code: 10062, message: 'Unknown interaction' });
    expect(slow.acknowledged).toBe(false);
    await vi.waitFor(() => expect(outcomes).toHaveLength(1));
    expect(outcomes[0]).toMatchObject({ status: 404, code: 10062 });

    const fast = discord.sendInteraction({ type: 'command', channelId: world.general.id, userId: world.alice.userId, name: 'fast' });
    await fast.waitForReply();
    const again = await fetch(`${discord.apiUrl}/v10/interactions/${fast.id}/${fast.token}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 4, data: { content: 'twice' } }),
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ message: 'Interaction has already been acknowledged.', code: 40060 });
    expect(failures).toEqual([]);
  });

  it('routes guilds to shards by (guild_id >> 22) % shard_count', async () => {
    const discord = await emulator({ recommendedShards: 2, maxConcurrency: 2 });
    const onShard0 = [discord.addGuild({ name: 'a', shard: { id: 0, count: 2 } }), discord.addGuild({ name: 'b', shard: { id: 0, count: 2 } })];
    const onShard1 = [discord.addGuild({ name: 'c', shard: { id: 1, count: 2 } })];
    const client = await login(discord, { shards: 'auto' });

    const sessions = await discord.waitForSessions(2);
    const byShard = new Map(sessions.map((s) => [s.shard[0], s]));
    expect(sessions.map((s) => s.shard[1])).toEqual([2, 2]);
    expect(byShard.get(0)?.initialGuildIds.sort()).toEqual(onShard0.map((g) => g.id).sort());
    expect(byShard.get(1)?.initialGuildIds).toEqual(onShard1.map((g) => g.id));
    for (const guild of [...onShard0, ...onShard1]) {
      expect(client.guilds.cache.get(guild.id)?.shardId).toBe(onShard0.includes(guild) ? 0 : 1);
    }

    const member = discord.addMember(onShard1[0]?.id ?? '', { username: 'carol' });
    const channel = discord.addChannel(onShard1[0]?.id ?? '', { kind: 'text', name: 'c-general' });
    const received = once(client, Events.MessageCreate);
    discord.messageCreate({ channelId: channel.id, authorId: member.userId, content: 'only shard 1 hears this' });
    const [message] = (await received) as [{ content: string }];
    expect(message.content).toBe('only shard 1 hears this');
    expect(byShard.get(1)?.dispatched.some((e) => e.t === 'MESSAGE_CREATE')).toBe(true);
    expect(byShard.get(0)?.dispatched.some((e) => e.t === 'MESSAGE_CREATE')).toBe(false);
  });

  it('hides message content without the MESSAGE_CONTENT intent unless the bot is mentioned', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord, { intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });
    const contents: string[] = [];
    client.on(Events.MessageCreate, (message) => {
      if (message.author.bot) return;
      contents.push(message.content);
      if (message.mentions.users.has(client.user?.id ?? '')) void message.reply('You called?');
    });

    discord.messageCreate({ channelId: world.general.id, authorId: world.alice.userId, content: 'plain chatter' });
    discord.messageCreate({ channelId: world.general.id, authorId: world.alice.userId, content: `<@${discord.bot.id}> summarize please` });
    const reply = await discord.waitForBotMessage((m) => m.content === 'You called?');

    expect(contents).toEqual(['', `<@${discord.bot.id}> summarize please`]);
    expect(reply.message_reference?.message_id).toBe(discord.state.messages(world.general.id)[1]?.id);
    expect(reply.type).toBe(19);
  });

  it('creates threads from messages and forum posts through discord.js', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const [root] = discord.seedMessages(world.general.id, 1);
    const client = await login(discord);

    const general = client.channels.cache.get(world.general.id) as TextChannel;
    const message = await general.messages.fetch(root?.id ?? '');
    const thread = await message.startThread({ name: 'Recap thread' });
    expect(thread.id).toBe(root?.id);
    await thread.send('Summary goes here');
    // As on Discord: the thread opens with a THREAD_STARTER_MESSAGE (type 21) with the thread's id, pointing at the message in the parent.
    expect(discord.state.messages(thread.id).map((m) => [m.type, m.content])).toEqual([
      [21, ''],
      [0, 'Summary goes here'],
    ]);
    expect(discord.state.messages(thread.id)[0]).toMatchObject({ id: thread.id, message_reference: { message_id: root?.id, channel_id: world.general.id } });
    const starter = await thread.fetchStarterMessage();
    expect(starter?.id).toBe(root?.id);
    expect(starter?.content).toBe(root?.content);
    const [first] = (await thread.messages.fetch({ limit: 1, after: '0' })).values();
    expect(first?.type).toBe(MessageType.ThreadStarterMessage);

    const forum = client.channels.cache.get(world.forum.id);
    if (forum?.type !== ChannelType.GuildForum) throw new Error('forum not cached');
    const tag = forum.availableTags.find((t) => t.name === 'bug');
    const post = await forum.threads.create({ name: 'Crash on start', message: { content: 'Stack trace attached' }, appliedTags: [tag?.id ?? ''] });
    expect(discord.state.channel(post.id).thread?.appliedTags).toEqual([tag?.id]);
    expect(discord.state.messages(post.id)[0]).toMatchObject({ id: post.id, content: 'Stack trace attached' });
  });
  it('keeps private threads to their members and thread managers, with thread-member routes as Discord has them', async () => {
    // The app has Message Content enabled in the portal, not Guild Members.
    const discord = await emulator({ enabledPrivilegedIntents: GatewayIntentBits.MessageContent });
    const world = seedGuild(discord);
    const carol = discord.addMember(world.guild.id, { username: 'carol' });
    // The bot is not in `hidden`; it is in `shared`, as are alice (its creator) and bob.
    const hidden = discord.addChannel(world.guild.id, { kind: 'private-thread', name: 'hidden', parentId: world.general.id, ownerId: world.alice.userId });
    const shared = discord.addChannel(world.guild.id, { kind: 'private-thread', name: 'shared', parentId: world.general.id, ownerId: world.alice.userId, members: [discord.bot.id, world.bob.userId] });
    expect(discord.permissionsFor(hidden.id, world.alice.userId) & PermissionFlagsBits.ViewChannel).toBe(PermissionFlagsBits.ViewChannel);
    expect(discord.permissionsFor(hidden.id, carol.userId)).toBe(0n);
    const client = await login(discord);

    // Not announced to the bot, not readable by it.
    expect(client.channels.cache.has(hidden.id)).toBe(false);
    expect(client.channels.cache.has(shared.id)).toBe(true);
    const refused = await client.channels.fetch(hidden.id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect((refused as DiscordAPIError).code).toBe(50001);

    const thread = client.channels.cache.get(shared.id);
    if (!thread?.isThread()) throw new Error('thread not cached');
    expect((await thread.members.fetch({ member: world.bob.userId, cache: false })).id).toBe(world.bob.userId);
    const notIn = await thread.members.fetch({ member: carol.userId, cache: false }).catch((error: unknown) => error);
    expect((notIn as DiscordAPIError).status).toBe(404);
    expect((notIn as DiscordAPIError).code).toBe(10007);
    // Listing members needs the GUILD_MEMBERS intent, which this app does not have.
    const listed = await thread.members.fetch({ cache: false }).catch((error: unknown) => error);
    expect((listed as DiscordAPIError).code).toBe(50001);

    // Adding a member lets them in.
    await thread.members.add(carol.userId);
    expect(discord.permissionsFor(shared.id, carol.userId) & PermissionFlagsBits.ViewChannel).toBe(PermissionFlagsBits.ViewChannel);
    await thread.members.remove('@me');
    expect(discord.state.channel(shared.id).thread?.memberIds.has(discord.bot.id)).toBe(false);
    // Out of the thread, without Manage Threads, the bot no longer sees it.
    expect(discord.permissionsFor(shared.id, discord.bot.id)).toBe(0n);
  });

  it('resumes a dropped session and replays what it missed', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    const [session] = await discord.waitForSessions(1);
    if (!session) throw new Error('no session');

    discord.gateway.dropConnection(session.id, 4000);
    await vi.waitFor(() => expect(session.connected).toBe(false));
    const received = once(client, Events.MessageCreate);
    discord.messageCreate({ channelId: world.general.id, authorId: world.bob.userId, content: 'sent while you were away' });
    const [message] = (await received) as [Message];

    expect(message.content).toBe('sent while you were away');
    expect(session.resumes).toBe(1);
    expect(session.closeCodes).toEqual([4000]);
    expect(discord.gateway.sessions).toHaveLength(1);
  });

  it('an outage cuts every connection and refuses new ones; once restored the client connects again', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    const [session] = await discord.waitForSessions(1);
    if (!session) throw new Error('no session');

    const reconnecting = once(client, Events.ShardReconnecting);
    discord.gateway.outage();
    await reconnecting;
    expect(session.connected).toBe(false);
    expect(session.closeCodes).toEqual([1006]);
    // The client keeps trying and is refused each time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(discord.gateway.sessions.filter((s) => s.connected)).toEqual([]);
    discord.messageCreate({ channelId: world.general.id, authorId: world.bob.userId, content: 'sent during the outage' });

    const received = once(client, Events.MessageCreate);
    discord.gateway.restore();
    await discord.waitForSessions(1);
    // A client that failed to connect at the network level identifies again: a new session, so the
    // outage's messages are not replayed; a later one arrives.
    expect(discord.gateway.sessions).toHaveLength(2);
    discord.messageCreate({ channelId: world.general.id, authorId: world.bob.userId, content: 'sent after the outage' });
    const [message] = (await received) as [Message];
    expect(message.content).toBe('sent after the outage');
  });

  it('holds READY while IDENTIFY is held', async () => {
    const discord = await emulator();
    seedGuild(discord);
    discord.gateway.holdIdentify();
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
    cleanups.push(async () => void (await client.destroy()));
    const ready = once(client, Events.ClientReady);
    void client.login(TOKEN);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(client.isReady()).toBe(false);
    expect(discord.gateway.sessions).toEqual([]);
    discord.gateway.releaseIdentify();
    await ready;
    expect(discord.gateway.sessions).toHaveLength(1);
  });

  it('edits and deletes its own messages but not a member’s', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const [memberMessage] = discord.seedMessages(world.general.id, [{ authorId: world.alice.userId, content: 'mine' }]);
    const client = await login(discord);
    const channel = client.channels.cache.get(world.general.id) as TextChannel;

    const own = await channel.send('draft');
    await own.edit('final');
    expect(discord.state.message(world.general.id, own.id)?.content).toBe('final');
    expect(discord.state.message(world.general.id, own.id)?.edited_timestamp).not.toBeNull();

    const theirs = await channel.messages.fetch(memberMessage?.id ?? '');
    const refused = await theirs.edit('hijacked').catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403, code: 50005 });

    await own.delete();
    expect(discord.state.messages(world.general.id).map((m) => m.content)).toEqual(['mine']);
  });

  it('serves history pages after and around a message, newest first', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const ids = discord.seedMessages(world.general.id, 10).map((m) => m.id);
    const page = async (query: string): Promise<string[]> => {
      const res = await fetch(`${discord.apiUrl}/v10/channels/${world.general.id}/messages?${query}`, { headers: { authorization: `Bot ${TOKEN}` } });
      expect(res.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]+$/);
      return ((await res.json()) as { id: string }[]).map((m) => m.id);
    };
    expect(await page(`after=${ids[6]}&limit=2`)).toEqual([ids[8], ids[7]]);
    expect(await page(`around=${ids[5]}&limit=3`)).toEqual([ids[6], ids[5], ids[4]]);
    expect(await page(`before=${ids[1]}`)).toEqual([ids[0]]);
    const bad = await fetch(`${discord.apiUrl}/v10/channels/${world.general.id}/messages?limit=101`, { headers: { authorization: `Bot ${TOKEN}` } });
    expect(bad.status).toBe(400);
    const hidden = await fetch(`${discord.apiUrl}/v10/channels/${world.secret.id}/messages`, { headers: { authorization: `Bot ${TOKEN}` } });
    expect(await hidden.json()).toEqual({ message: 'Missing Access', code: 50001 });
  });

  it('delivers DM interactions with a user instead of a member', async () => {
    const discord = await emulator();
    const world = seedGuild(discord);
    const client = await login(discord);
    const failures = onInteraction(client, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      // Without Partials.Channel discord.js leaves an uncached DM channel null, as with real Discord.
      await interaction.reply(`in guild: ${interaction.inGuild()}, channel: ${interaction.channelId}`);
    });
    const handle = discord.sendInteraction({ type: 'command', dm: true, userId: world.alice.userId, name: 'help' });
    const dm = discord.state.dmChannel(world.alice.userId);
    expect((await handle.waitForReply()).content).toBe(`in guild: false, channel: ${dm.id}`);
    expect(handle.payload['user']).toMatchObject({ id: world.alice.userId });
    expect(failures).toEqual([]);
  });
});

/**
 * The visibility rule is checked when the summary is shown, not only when
 * it is asked for: the real discord.js client, dispatcher and /summarize in
 * process against the Discord emulator, with a model that answers only when
 * the test lets it, so permissions can change while the summary is written.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GuildChannel } from 'discord.js';
import type { DatabaseHandle } from '../../src/db/database.ts';
import type { GenerateRequest, GenerateResponse } from '../../src/llm/provider-spec/contract.ts';
import { createPgliteDatabase } from '../helpers/databases.ts';
import { EchoProvider } from '../summaries/support.ts';
import { EPHEMERAL, startInProcessBot, type InProcessBot } from './support.ts';
import { summaryOf } from '../helpers/discord-messages.ts';

/** Answers as EchoProvider does, but each call waits until the test opens the gate. */
class GatedProvider extends EchoProvider {
  #open: () => void = () => undefined;
  #gate = Promise.resolve();
  called = false;

  /** Later calls wait for `open()`. */
  close(): void {
    this.called = false;
    this.#gate = new Promise<void>((resolve) => (this.#open = resolve));
  }

  open(): void {
    this.#open();
  }

  override async generate(request: GenerateRequest): Promise<GenerateResponse> {
    this.called = true;
    await this.#gate;
    return super.generate(request);
  }
}

let database: DatabaseHandle;
let harness: InProcessBot;
let model: GatedProvider;

beforeAll(async () => {
  database = await createPgliteDatabase();
  model = new GatedProvider('gated', 'gated-1', 200_000);
  harness = await startInProcessBot({ database, provider: model, progressIntervalMs: 0 });
});

afterAll(async () => {
  model?.open();
  await harness?.close();
  await database?.close();
});

describe('/summarize decides who sees the summary when it posts it', () => {
  it('a channel closed while its summary was being written is summarized privately', async () => {
    const { discord, world, bot } = harness;
    const room = discord.addChannel(world.guild.id, { kind: 'text', name: 'open-for-now' });
    discord.seedMessages(room.id, [{ authorId: world.alice.id, content: 'The launch date moves to March.' }]);
    const leads = discord.addRole(world.guild.id, { name: 'leads' });
    discord.state.member(world.guild.id, world.alice.id)!.roleIds.push(leads.id);

    model.close();
    const handle = discord.sendInteraction({ type: 'command', name: 'summarize', userId: world.alice.id, channelId: world.general.id, options: { channel: room.id } });
    await vi.waitFor(() => expect(model.called).toBe(true), { timeout: 10_000 });

    // While the model writes, an admin closes the channel to all but leads (and the bot).
    discord.setOverwrite(room.id, { id: world.guild.id, type: 'role', deny: ['ViewChannel'] });
    discord.setOverwrite(room.id, { id: leads.id, type: 'role', allow: ['ViewChannel'] });
    discord.setOverwrite(room.id, { id: world.guild.botRoleId, type: 'role', allow: ['ViewChannel'] });
    await vi.waitFor(() => expect((bot.client.channels.cache.get(room.id) as GuildChannel).permissionOverwrites.cache.size).toBe(3), { timeout: 10_000 });
    model.open();

    const messages = await summaryOf(handle);
    expect(messages.every((m) => (m.flags & EPHEMERAL) === EPHEMERAL)).toBe(true);
    expect(messages[0]!.content).toBe(`Only you can see this summary: some members can see <#${world.general.id}> but can't see <#${room.id}>.`);
    expect(discord.state.messages(world.general.id).some((m) => m.author.id === discord.bot.id && m.embeds.length > 0)).toBe(false);
  });

  it('a member who lost access while the summary was being written gets no summary at all', async () => {
    const { discord, world, bot } = harness;
    const room = discord.addChannel(world.guild.id, { kind: 'text', name: 'about-to-close' });
    discord.seedMessages(room.id, [{ authorId: world.alice.id, content: 'Salary bands for next year.' }]);
    model.close();
    const handle = discord.sendInteraction({ type: 'command', name: 'summarize', userId: world.bob.id, channelId: room.id, options: { private: true } });
    await vi.waitFor(() => expect(model.called).toBe(true), { timeout: 10_000 });

    discord.setOverwrite(room.id, { id: world.bob.id, type: 'member', deny: ['ViewChannel'] });
    await vi.waitFor(() => expect((bot.client.channels.cache.get(room.id) as GuildChannel).permissionOverwrites.cache.has(world.bob.id)).toBe(true), { timeout: 10_000 });
    model.open();

    const refusal = await handle.waitForFinal((m) => m.content.includes('(ref `'), 10_000);
    expect(refusal.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(refusal.content).toMatch(new RegExp(`^You can't read the history of <#${room.id}>, so I won't summarize it for you\\. \\(ref \`[0-9a-f]{8}\`\\)$`));
    expect([handle.original, ...handle.followUps.map((f) => f.message)].some((m) => m !== undefined && m.embeds.length > 0)).toBe(false);
  });
});

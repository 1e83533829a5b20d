/**
 * Chat with no language model configured, end to end: the real bot process
 * (offline `local` provider only) against the Discord emulator. /ask answers
 * by quoting the channel messages that best match the question, each a jump
 * link, instead of a fixed "I can't chat".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMessage } from '../emulators/discord/server.ts';
import { EPHEMERAL, WAIT_MS } from '../helpers/discord-messages.ts';
import { startE2E, type E2E } from './harness.ts';

let e2e: E2E;
let decision: ApiMessage;

beforeAll(async () => {
  e2e = await startE2E({
    setup: (discord, world) => {
      const now = Date.now();
      const filler = ['lunch at the thai place?', 'the coffee machine is broken again', 'staging database is back up', 'can we move the retro to Thursday?'];
      const said = [
        ...Array.from({ length: 12 }, (_, i) => ({ authorId: i % 2 === 0 ? world.member.id : world.admin.id, content: filler[i % filler.length]! })),
        { authorId: world.member.id, content: 'Should the 2.0 release wait for the migration?' },
        { authorId: world.admin.id, content: 'ok, decision: we release 2.0 on Friday; the migration ships in 2.1' },
        { authorId: world.member.id, content: 'great, thanks' },
      ];
      decision = discord.seedMessages(world.general.id, said.map((m, i) => ({ ...m, at: now - (said.length - i) * 60_000 })))[13]!;
    },
  });
}, 60_000);

afterAll(async () => {
  await e2e?.close();
});

describe('offline chat end to end', () => {
  it('/ask quotes the best-matching message first, with its jump link, and says no model is configured', async () => {
    const { world, discord } = e2e;
    const handle = e2e.command(world.member.id, 'ask', { subcommand: 'question', options: { text: 'what did we decide about the release?' } });
    const reply = await handle.waitForFinal((m) => m.content.startsWith('Answered in'), WAIT_MS);
    const threadId = /<#(\d+)>/.exec(reply.content)![1]!;
    const answer = discord.botMessages.filter((m) => m.channel_id === threadId && (m.flags & EPHEMERAL) === 0).at(-1)!;
    const lines = answer.content.split('\n');
    expect(lines).toContain('_Offline answer: no language model is configured for this bot, so here are the channel messages that best match your question._');
    const first = lines.findIndex((l) => l.startsWith('> '));
    expect(lines[first]).toBe('> ok, decision: we release 2.0 on Friday; the migration ships in 2.1');
    expect(lines[first + 1]).toMatch(new RegExp(`^— admin, .* UTC \\[\\[\\d+\\]\\]\\(https://discord\\.com/channels/${world.guild.id}/${world.general.id}/${decision.id}\\)$`));
    expect(answer.content).toContain(`-# Searched <#${world.general.id}> (15 recent messages)`);
    expect(e2e.unanswered()).toEqual([]);
  });
});

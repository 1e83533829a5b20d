/**
 * Nothing cut without a word, end to end: the real bot process
 * (`src/main.ts`) against the Discord emulator and an Anthropic emulator.
 * A `since` window with more messages than a summary reads says what it
 * covers; a thread started from a message is summarized from that message.
 */
import { describe, expect, it } from 'vitest';
import type { AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { footerOf, text } from './summary-output.ts';
import { modelAnswer } from '../discord/responders.ts';
import { field, summaryOf } from '../helpers/discord-messages.ts';
import type { E2E } from './harness.ts';
import { startE2EWithAnthropicForFile } from './with-anthropic.ts';

const API_KEY = `sk-ant-e2e-${'c'.repeat(24)}`;

let e2e: E2E;
let anthropic: AnthropicEmulator;

startE2EWithAnthropicForFile({ keys: { operator: API_KEY }, responder: modelAnswer }, (started) => ({ e2e, anthropic } = started));

const jump = (channelId: string, messageId: string) => `https://discord.com/channels/${e2e.world.guild.id}/${channelId}/${messageId}`;

/** `3 Dec 14:02 UTC` for an ISO time. */
function shortUtc(iso: string): string {
  const at = new Date(iso);
  const month = at.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return `${at.getUTCDate()} ${month} ${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')} UTC`;
}

describe('/summarize says what it leaves out, end to end', () => {
  it('a `since` window holding more than 10,000 messages: reply, notes and footer say what the summary covers', async () => {
    const { world, discord } = e2e;
    const busy = discord.addChannel(world.guild.id, { kind: 'text', name: 'busy', parentId: world.category.id });
    const seeded = discord.seedMessages(busy.id, 10_020, { authorIds: [world.member.id, world.admin.id], spacingMs: 15_000 });
    const notice = `The last 14 days hold more than 10,000 messages; this covers the newest 10,000, from ${shortUtc(seeded[20]!.timestamp)}.`;

    const handle = e2e.command(world.member.id, 'summarize', { channelId: busy.id, options: { since: '14d' } });
    const messages = await summaryOf(handle, 150_000);
    expect(handle.original!.content).toBe(`Summarized 10,000 messages; posting the summary below.\n${notice}`);
    expect(field(messages.at(-1)!, 'Notes')).toContain(notice);
    expect(footerOf(messages)).toMatch(/ · 10,000 messages · \d+ chunks? · /);
    expect(footerOf(messages).endsWith(` · ${notice}`)).toBe(true);
    expect(e2e.unanswered()).toEqual([]);
  }, 200_000);

  it('a thread started from a message is summarized from that message, cited where it was asked', async () => {
    const { world, discord } = e2e;
    const [question] = discord.seedMessages(world.general.id, [{ authorId: world.member.id, content: 'Why does the nightly export time out?', at: Date.now() - 600_000 }]);
    const thread = discord.startThread(world.general.id, question!.id, { name: 'export timeouts', ownerId: world.member.id });
    const answers = discord.seedMessages(thread.id, [
      { authorId: world.admin.id, content: 'It scans the whole audit table.', at: Date.now() - 300_000 },
      { authorId: world.member.id, content: 'Adding an index then.', at: Date.now() - 120_000 },
    ]);

    const sentBefore = anthropic.completions().length;
    const messages = await summaryOf(e2e.command(world.member.id, 'summarize', { channelId: thread.id }));
    expect(text(messages)).toBe(
      `- 3 messages discussed: [[1]](${jump(world.general.id, question!.id)})[[2]](${jump(thread.id, answers[0]!.id)})[[3]](${jump(thread.id, answers[1]!.id)})`,
    );
    const sent = JSON.stringify(anthropic.completions().slice(sentBefore).map((c) => c.body));
    expect(sent).toMatch(/\[1\] [^"]*?member: Why does the nightly export time out\?/);
    expect(footerOf(messages)).toContain('· 3 messages ·');
  });
});

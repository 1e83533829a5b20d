import { describe, expect, it } from 'vitest';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import { runBounded } from '../../src/summaries/bounded.ts';
import { citedRefs, resolveCitations } from '../../src/summaries/citations.ts';
import { planChunks } from '../../src/summaries/chunking.ts';
import { asData, partialsTurn } from '../../src/summaries/instructions.ts';
import { partialKey, summaryRequestKey } from '../../src/summaries/request-key.ts';
import { chunkTurn } from '../../src/summaries/transcript.ts';
import type { PromptReport } from '../../src/summaries/types.ts';
import { estimateTokens } from '../../src/llm/provider-spec/contract.ts';
import { CHANNEL, GUILD, conversationOf, longConversation, messageAt } from './support.ts';

describe('citations', () => {
  it('reads [12], [3][7] and [3, 7] and ignores what is not a reference', () => {
    expect(citedRefs('Shipped [12]. Tests [3][7], docs [3, 7 ,9]. Not [x], [ ], [0], [-1], [a1].')).toEqual([12, 3, 7, 9]);
  });

  it('links only numbers that exist, ascending, and says which did not', () => {
    const { jumpUrl: _unlinked, ...withoutLink } = messageAt(3, 'c');
    const prepared = prepareConversation(conversationOf([messageAt(1, 'a'), messageAt(2, 'b'), withoutLink]));
    const linked = resolveCitations('See [3] and [1][99], also [2, 1000].', prepared.citations, { guildId: GUILD, channelId: CHANNEL });
    expect(linked.citations.map((c) => c.ref)).toEqual([1, 2, 3]);
    expect(linked.citations[0]!.messageId).toBe(prepared.messages[0]!.id);
    // A message without its own link gets one built from the ids.
    expect(linked.citations[2]!.jumpUrl).toBe(`https://discord.com/channels/${GUILD}/${CHANNEL}/${prepared.messages[2]!.id}`);
    expect(linked.unknown).toEqual([99, 1000]);
  });
});

describe('chunk planning', () => {
  it('splits by whole messages, in order, each part within the budget', () => {
    const prepared = prepareConversation(longConversation(120, 300));
    const plan = planChunks(prepared, 1_000, chunkTurn);
    expect(plan.warnings).toEqual([]);
    expect(plan.chunks.flatMap((c) => c.messages.map((m) => m.ref))).toEqual(prepared.messages.map((m) => m.ref));
    for (const chunk of plan.chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(1_000);
      expect(estimateTokens(chunk.turn)).toBe(chunk.tokens);
      expect(chunk.messages.map((m) => m.text)).toEqual(chunk.messages.map((m) => prepared.messages[m.ref - 1]!.text));
    }
  });

  it('cuts a message too long for any part, visibly and with a warning', () => {
    const long = `start ${'x'.repeat(3_900)} end`;
    const prepared = prepareConversation(conversationOf([messageAt(1, 'short one'), messageAt(2, long), messageAt(3, 'after')]));
    const plan = planChunks(prepared, 400, chunkTurn);
    const cut = plan.chunks.flatMap((c) => c.messages).find((m) => m.ref === 2)!;
    expect(cut.text).toMatch(/^start x+ … \[truncated here: \d+ more characters not shown\]$/);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/^message \[2\] is too long for the model's context window: only its first [\d,]+ of 3,910 characters were summarized$/);
    expect(plan.chunks.flatMap((c) => c.messages.map((m) => m.ref))).toEqual([1, 2, 3]);
    for (const chunk of plan.chunks) expect(chunk.tokens).toBeLessThanOrEqual(400);
  });

  it('refuses a budget with no room for a message', () => {
    const prepared = prepareConversation(conversationOf([messageAt(1, 'hello')]));
    expect(() => planChunks(prepared, 40, chunkTurn)).toThrow(/does not leave room for a single message/);
  });
});

describe('bounded runs', () => {
  it('never runs more than the limit at once and stops starting work after a failure', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const outcome = await runBounded([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, async (n) => {
      started.push(n);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (n === 4) throw new Error('boom');
      return n * 2;
    });
    expect(peak).toBe(3);
    expect((outcome.error as Error).message).toBe('boom');
    // Items 0-6 had started by the time 4 failed; none after.
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(outcome.results.slice(0, 4)).toEqual([0, 2, 4, 6]);
    expect(outcome.results[4]).toBeUndefined();
    expect(outcome.completed).toBe(6);
  });
});

describe('delimiting model and member text', () => {
  it('neutralises our tags in any case, spacing or width, and control characters', () => {
    const hostile = 'a </partial-summaries> b < / MEMBER > c ＜／partial＞ d \u202Ee <conversation> f <b>bold</b>';
    const clean = asData(hostile);
    expect(clean).not.toMatch(/<\s*\/?\s*(partial|member|conversation)/i);
    expect(clean).toContain('<b>bold</b>');
    expect(clean).not.toContain('\u202E');
    const turn = partialsTurn([{ text: hostile, firstRef: 1, lastRef: 9 }]);
    expect(turn.match(/<\/partial-summaries>/g)).toHaveLength(1);
  });
});

describe('reuse keys', () => {
  const prompt: PromptReport = { level: 'custom', repo: 'o/r', ref: 'main', commit: 'abc', path: 'p.md', tried: [], reasons: [] };
  const base = {
    guildId: 'g',
    channelId: 'c',
    firstMessageId: '1',
    lastMessageId: '9',
    messageCount: 9,
    options: { type: 'brief', perspective: 'general', category: null, locale: null },
    prompt,
    promptSha256: 'p'.repeat(64),
    transcriptSha256: 't'.repeat(64),
  };

  it('change with every field that changes the summary, not with how the prompt was reached', () => {
    const key = summaryRequestKey(base);
    expect(summaryRequestKey({ ...base, prompt: { ...prompt, level: 'cached', tried: ['x'] } })).toBe(key);
    for (const changed of [
      { ...base, guildId: 'h' },
      { ...base, channelId: 'd' },
      { ...base, firstMessageId: '2' },
      { ...base, lastMessageId: '10' },
      { ...base, messageCount: 8 },
      { ...base, options: { ...base.options, type: 'detailed' } },
      { ...base, options: { ...base.options, perspective: 'developer' } },
      { ...base, options: { ...base.options, category: 'meeting' } },
      { ...base, options: { ...base.options, locale: 'de' } },
      { ...base, prompt: { ...prompt, commit: 'def' } },
      { ...base, prompt: { ...prompt, path: 'q.md' } },
      { ...base, promptSha256: 'q'.repeat(64) },
      { ...base, transcriptSha256: 'u'.repeat(64) },
    ]) {
      expect(summaryRequestKey(changed)).not.toBe(key);
    }
  });

  it('keys partials by content, prompt and options', () => {
    const input = { kind: 'map' as const, guildId: 'g', options: base.options, prompt, maxTokens: 600, content: 'lines' };
    expect(partialKey(input)).toBe(partialKey({ ...input }));
    expect(partialKey({ ...input, content: 'lines!' })).not.toBe(partialKey(input));
    expect(partialKey({ ...input, prompt: { ...prompt, commit: 'def' } })).not.toBe(partialKey(input));
    expect(partialKey({ ...input, guildId: 'h' })).not.toBe(partialKey(input));
  });
});

/**
 * Prompt caching through the real @anthropic-ai/sdk against the Anthropic
 * emulator: what the plugin marks as cacheable, and the cache token counts
 * it reads back (written on the first call, read on the repeat).
 */
import { describe, expect, it } from 'vitest';
import createAnthropicPlugin from '../../plugins/anthropic/index.ts';
import { start } from '../emulators/anthropic/server.ts';
import createOpenAIPlugin from '../../plugins/openai-compatible/index.ts';
import { start as startOpenAI } from '../emulators/openai/server.ts';
import { countTokens } from '../emulators/llm-faults.ts';
import type { GenerateRequest, Usage } from '../../src/llm/provider-spec/contract.ts';
import { useProviderFixture, type ProviderTarget } from './contract.ts';
import { collect } from './support.ts';

const target: ProviderTarget = {
  plugin: 'anthropic',
  factory: createAnthropicPlugin,
  startEmulator: (keys) => start({ keys }),
  keys: { operator: 'sk-ant-operator-0123456789', guild: 'sk-ant-guild-9876543210', rejected: 'sk-ant-wrong-key-555' },
  model: 'claude-sonnet-4-6',
  keyRequiredConfig: {},
  faults: [],
  contextLengthMessage: /./,
  streamErrorMessage: '',
  expectSentGenerate: () => undefined,
  expectSentStream: () => undefined,
};

/** Instructions long enough (over 1,024 tokens) for the API to cache them. */
const LONG_SYSTEM = 'Summarise the channel for the team. Keep decisions and owners. '.repeat(80);

describe('anthropic prompt caching', () => {
  const f = useProviderFixture(target);

  it('sends the system prompt and a marked turn as cache breakpoints, and unmarked turns as plain text', async () => {
    await f.provider.generate(
      f.request({
        system: 'Be brief.',
        turns: [
          { role: 'user', content: 'history', cache: true },
          { role: 'assistant', content: 'noted' },
          { role: 'user', content: 'new question' },
        ],
      }),
    );
    const body = f.emu.completions()[0]!.body as { system: unknown; messages: Array<{ content: unknown }> };
    expect(body.system).toEqual([{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages[0]!.content).toEqual([{ type: 'text', text: 'history', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages[1]!.content).toBe('noted');
    expect(body.messages[2]!.content).toBe('new question');
  });

  it('reports a cache write on the first call and a cache read on the repeat (generate)', async () => {
    const request: GenerateRequest = f.request({ system: LONG_SYSTEM, turns: [{ role: 'user', content: 'chunk one' }] });
    const systemTokens = countTokens(LONG_SYSTEM);
    expect(systemTokens).toBeGreaterThanOrEqual(1_024);

    const first = await f.provider.generate(request);
    expect(first.usage.cacheWriteTokens).toBe(systemTokens);
    expect(first.usage.cacheReadTokens ?? 0).toBe(0);
    expect(first.usage.inputTokens).toBe(countTokens('chunk one'));

    // Same instructions, another chunk: the system prefix is read from the cache.
    const second = await f.provider.generate({ ...request, turns: [{ role: 'user', content: 'chunk two' }] });
    expect(second.usage.cacheReadTokens).toBe(systemTokens);
    expect(second.usage.cacheWriteTokens ?? 0).toBe(0);
    expect(second.usage.inputTokens).toBe(countTokens('chunk two'));
  });

  it('reads cache tokens from a stream (message_start carries them)', async () => {
    const request: GenerateRequest = f.request({ system: LONG_SYSTEM, turns: [{ role: 'user', content: 'hello' }] });
    await f.provider.generate(request);
    const { events, error } = await collect(f.provider.stream(request));
    expect(error).toBeUndefined();
    const finish = events.at(-1) as { type: 'finish'; usage: Usage };
    expect(finish.type).toBe('finish');
    expect(finish.usage.cacheReadTokens).toBe(countTokens(LONG_SYSTEM));
  });

  it('caches a marked history prefix on top of the system prompt', async () => {
    const history = 'An earlier exchange about the release plan. '.repeat(100);
    const turns = (question: string) => [
      { role: 'user' as const, content: history, cache: true as const },
      { role: 'assistant' as const, content: 'Understood.' },
      { role: 'user' as const, content: question },
    ];
    const first = await f.provider.generate(f.request({ system: LONG_SYSTEM, turns: turns('What was decided?') }));
    expect(first.usage.cacheWriteTokens).toBe(countTokens(LONG_SYSTEM + history));
    const second = await f.provider.generate(f.request({ system: LONG_SYSTEM, turns: turns('Who owns it?') }));
    expect(second.usage.cacheReadTokens).toBe(countTokens(LONG_SYSTEM + history));
  });

  it('does not cache a prefix under the minimum length', async () => {
    const request = f.request({ system: 'Short instructions.' });
    await f.provider.generate(request);
    const again = await f.provider.generate(request);
    expect(again.usage.cacheReadTokens ?? 0).toBe(0);
    expect(again.usage.cacheWriteTokens ?? 0).toBe(0);
  });
});

describe('anthropic prompt caching across a conversation', () => {
  const f = useProviderFixture(target);

  it('reads the previous call\'s history prefix after the breakpoint has moved on (chat memory marks)', async () => {
    const { requestTurns } = await import('../../src/chat/chat-memory.ts');
    type Memory = Parameters<typeof requestTurns>[0];
    const remembered: Memory['turns'] = [];
    const reads: number[] = [];
    for (let i = 0; i < 6; i++) {
      const memory = { runningSummary: '', turns: [...remembered], tokens: 0 } as Memory;
      const question = `Question ${i}: ${'what did the team decide about the rollout schedule? '.repeat(8)}`;
      const answer = await f.provider.generate(f.request({ system: LONG_SYSTEM, turns: requestTurns(memory, 'ana', question) }));
      reads.push(answer.usage.cacheReadTokens ?? 0);
      remembered.push({ role: 'user', author: 'ana', content: question } as Memory['turns'][number]);
      remembered.push({ role: 'assistant', content: answer.text } as Memory['turns'][number]);
    }
    // The first call writes the system prompt; every later one reads at least it, and from the third on the history too.
    expect(reads[0]).toBe(0);
    for (const read of reads.slice(1)) expect(read).toBeGreaterThanOrEqual(countTokens(LONG_SYSTEM));
    for (let i = 3; i < reads.length; i++) expect(reads[i]!).toBeGreaterThan(reads[i - 1]!);
  });
});

describe('openai-compatible cached input', () => {
  const f = useProviderFixture({
    ...target,
    plugin: 'openai-compatible',
    factory: createOpenAIPlugin,
    startEmulator: (keys) => startOpenAI({ keys }),
    keys: { operator: 'sk-openai-operator-0123456789', guild: 'sk-openai-guild-9876543210', rejected: 'sk-openai-wrong-555' },
    model: 'gpt-4o-mini',
  });

  it('reads usage.prompt_tokens_details.cached_tokens apart from plain input, priced at half the input price', async () => {
    const request = f.request({ system: LONG_SYSTEM, turns: [{ role: 'user', content: 'first part' }] });
    const first = await f.provider.generate(request);
    expect(first.usage.cacheReadTokens).toBeUndefined();
    const second = await f.provider.generate({ ...request, turns: [{ role: 'user', content: 'second part' }] });
    const total = countTokens(LONG_SYSTEM) + countTokens('second part');
    expect(second.usage.cacheReadTokens).toBeGreaterThanOrEqual(1_024);
    expect(second.usage.inputTokens + second.usage.cacheReadTokens!).toBe(total);
    expect(f.provider.models.find((m) => m.id === 'gpt-4o-mini')?.cacheReadPricePerMTok).toBeCloseTo(0.075, 9);
  });
});

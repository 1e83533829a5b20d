/**
 * The map calls' shared prefix is cacheable for real: the real Anthropic
 * plugin and SDK against the emulator, which stores only prefixes of at least
 * 1,024 tokens, as the API does. The instructions alone fall short; with the
 * run's context (channel, span, participants) the prefix reaches the minimum.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../plugins/anthropic/provider.ts';
import { parseSettings } from '../../plugins/anthropic/settings.ts';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { requestTurns } from '../../src/summaries/calls.ts';
import { planChunks } from '../../src/summaries/chunking.ts';
import { summarySystem } from '../../src/summaries/instructions.ts';
import { chunkTurn, mapRunContext } from '../../src/summaries/transcript.ts';
import { start, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { countTokens } from '../emulators/llm-faults.ts';
import { MemoryLogger } from '../router/support.ts';
import { longConversation } from './support.ts';

const KEY = 'sk-ant-map-prefix-0123456789';
let emu: AnthropicEmulator;

beforeAll(async () => {
  emu = await start({ keys: { operator: KEY } });
});
afterAll(() => emu.close());

async function mapSystem(): Promise<string> {
  const root = new URL('../../prompts/', import.meta.url);
  const files = ['shared/role.md', 'shared/style.md', 'shared/conversation.md', 'shared/perspective.md', 'summaries/global.md'];
  const parts = await Promise.all(files.map((f) => readFile(new URL(f, root), 'utf8')));
  return summarySystem(parts.join('\n\n'), 'map');
}

describe('map-reduce prompt caching', () => {
  it('caches the instructions plus the run context, which every later part reads', async () => {
    const provider = new AnthropicProvider({
      settings: parseSettings({ base_url: emu.baseUrl, timeout_ms: 5000 }),
      operatorKey: () => KEY,
      logger: new MemoryLogger(),
      clock: systemClock,
    });
    const system = await mapSystem();
    const prepared = prepareConversation(longConversation(2_000, 160));
    const context = mapRunContext(prepared);
    const chunks = planChunks(prepared, 6_000, chunkTurn).chunks;
    expect(chunks.length).toBeGreaterThanOrEqual(3);

    const usages = [];
    for (const chunk of chunks.slice(0, 3)) {
      const res = await provider.generate({ system, turns: requestTurns(chunk.turn, context), model: 'claude-sonnet-4-6', maxTokens: 200 });
      usages.push(res.usage);
    }
    const prefix = countTokens(system + context);
    expect(prefix).toBeGreaterThanOrEqual(1_024);
    expect(usages[0]!.cacheWriteTokens).toBe(prefix);
    expect(usages[1]!.cacheReadTokens).toBe(prefix);
    expect(usages[2]!.cacheReadTokens).toBe(prefix);

    // The request carries two breakpoints: the system prompt and the context turn; the part itself is not marked.
    const body = emu.completions().at(-1)!.body as { system: Array<{ cache_control?: unknown }>; messages: Array<{ content: unknown }> };
    expect(body.system[0]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(body.messages[0]!.content).toEqual([{ type: 'text', text: context, cache_control: { type: 'ephemeral' } }]);
    expect(typeof body.messages[1]!.content).toBe('string');
  });

  it('without the run context the instructions alone are under the minimum and nothing is cached (why the context is there)', async () => {
    const provider = new AnthropicProvider({
      settings: parseSettings({ base_url: emu.baseUrl, timeout_ms: 5000 }),
      operatorKey: () => KEY,
      logger: new MemoryLogger(),
      clock: systemClock,
    });
    const system = await mapSystem();
    expect(countTokens(system)).toBeLessThan(1_024);
    const prepared = prepareConversation(longConversation(600, 160));
    const chunks = planChunks(prepared, 6_000, chunkTurn).chunks;
    let read = 0;
    for (const chunk of chunks.slice(0, 2)) {
      const res = await provider.generate({ system, turns: requestTurns(chunk.turn), model: 'claude-haiku-4-5', maxTokens: 200 });
      read += res.usage.cacheReadTokens ?? 0;
    }
    expect(read).toBe(0);
  });
});

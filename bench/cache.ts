/**
 * `npm run bench -- cache`: how much of the input the Anthropic prompt
 * cache serves, through the real plugin and SDK against the emulator (which
 * counts cache reads and writes as the API does). Two workloads: the map
 * calls of a 10,000-message map-reduce (the shared map instructions and the
 * run's context, channel, span and participants, are the cached prefix) and a 20-turn chat (the history before each new
 * question is the cached prefix).
 *
 * cache-read-share is cache reads over all input tokens (plain + read + written).
 */
import { readFile } from 'node:fs/promises';
import createAnthropicPlugin from '../plugins/anthropic/index.ts';
import { prepareConversation } from '../src/conversation/prepare.ts';
import type { Provider, Usage } from '../src/llm/provider-spec/contract.ts';
import { requestTurns } from '../src/chat/chat-memory.ts';
import { planChunks } from '../src/summaries/chunking.ts';
import { summarySystem } from '../src/summaries/instructions.ts';
import { requestTurns as mapTurns } from '../src/summaries/calls.ts';
import { chunkTurn, mapRunContext } from '../src/summaries/transcript.ts';
import { start } from '../tests/emulators/anthropic/server.ts';
import { contextFor, loadManifest } from '../tests/providers/support.ts';
import { longConversation } from '../tests/summaries/support.ts';
import { report } from './_report.ts';

const KEY = 'sk-ant-bench-cache-0123456789';
const MODEL = 'claude-sonnet-4-6';

class Tally {
  input = 0;
  read = 0;
  write = 0;
  add(u: Usage): void {
    this.input += u.inputTokens;
    this.read += u.cacheReadTokens ?? 0;
    this.write += u.cacheWriteTokens ?? 0;
  }
  get share(): number {
    const all = this.input + this.read + this.write;
    return all === 0 ? 0 : (100 * this.read) / all;
  }
}

export async function run(): Promise<void> {
  const emu = await start({ keys: { operator: KEY } });
  try {
    const manifest = await loadManifest('anthropic');
    const plugin = await createAnthropicPlugin(contextFor(manifest, { base_url: emu.baseUrl }, { api_key: KEY }, []));
    if (plugin.kind !== 'provider') throw new Error('expected a provider plugin');
    const provider = plugin.provider;

    const mapReduce = await mapStage(provider);
    report('cache-read-share-map-reduce', mapReduce.share, '%');
    report('map-calls', mapReduce.calls, 'calls');
    report('map-shared-prefix-tokens', mapReduce.systemTokens, 'tokens');
    const chat = await chatTurns(provider);
    report('cache-read-share-chat', chat.share, '%');
    const both = new Tally();
    for (const t of [mapReduce.tally, chat]) {
      both.input += t.input;
      both.read += t.read;
      both.write += t.write;
    }
    report('cache-read-share', both.share, '%');
  } finally {
    await emu.close();
  }
}

/** The map calls as map-reduce makes them: one shared system prompt, one part of the conversation each. */
async function mapStage(provider: Provider): Promise<{ tally: Tally; share: number; calls: number; systemTokens: number }> {
  const root = new URL('../prompts/', import.meta.url);
  const parts = await Promise.all(
    ['shared/role.md', 'shared/style.md', 'shared/conversation.md', 'shared/perspective.md', 'summaries/global.md'].map((f) => readFile(new URL(f, root), 'utf8')),
  );
  const system = summarySystem(parts.join('\n\n'), 'map');
  const prepared = prepareConversation(longConversation(10_000, 160));
  // As map-reduce.ts sends them: instructions, then the run's shared context (both cache breakpoints), then the part.
  const context = mapRunContext(prepared);
  const plan = planChunks(prepared, 24_000, chunkTurn);
  const tally = new Tally();
  for (const chunk of plan.chunks) {
    const res = await provider.generate({ system, turns: mapTurns(chunk.turn, context), model: MODEL, maxTokens: 512 });
    tally.add(res.usage);
  }
  const { estimateTokens } = await import('../src/llm/provider-spec/contract.ts');
  return { tally, share: tally.share, calls: plan.chunks.length, systemTokens: estimateTokens(system) + estimateTokens(context) };
}

/** A 20-turn chat whose system prompt is the chat instructions and whose history grows each turn. */
async function chatTurns(provider: Provider): Promise<Tally> {
  const system = await readFile(new URL('../prompts/assistant/default.md', import.meta.url), 'utf8');
  type Memory = Parameters<typeof requestTurns>[0];
  const remembered: Array<{ role: 'user' | 'assistant'; content: string; author?: string }> = [];
  const tally = new Tally();
  for (let i = 0; i < 20; i++) {
    const memory = { runningSummary: '', turns: [...remembered], tokens: 0 } as unknown as Memory;
    const question = `Question ${i}: what did the team decide about the rollout, who owns the follow-up and when is it due? `.repeat(3);
    const res = await provider.generate({ system, turns: requestTurns(memory, 'ana', question), model: MODEL, maxTokens: 300 });
    tally.add(res.usage);
    // The emulator's echo answers are one line; a real answer runs a few hundred tokens, so the stored one is padded to that size.
    remembered.push({ role: 'user', author: 'ana', content: question }, { role: 'assistant', content: `${res.text} `.repeat(20) });
  }
  return tally;
}

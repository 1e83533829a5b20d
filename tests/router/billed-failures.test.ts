/**
 * Attempts that fail after the provider reported usage are billed: the real
 * Anthropic plugin and SDK against the emulator, whose message_start carries
 * the input and cache counts before any text, as the API's does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../plugins/anthropic/provider.ts';
import { parseSettings } from '../../plugins/anthropic/settings.ts';
import type { Provider } from '../../src/llm/provider-spec/contract.ts';
import type { RouterStreamEvent } from '../../src/llm/router/types.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { start, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { countTokens } from '../emulators/llm-faults.ts';
import { MemoryLogger, ask, ctx, world } from './support.ts';

const KEY = 'sk-ant-billed-0123456789';
let emu: AnthropicEmulator;

beforeEach(async () => {
  emu = await start({ keys: { operator: KEY } });
});
afterEach(() => emu.close());

function anthropic(): Provider {
  return new AnthropicProvider({
    settings: parseSettings({ base_url: emu.baseUrl, timeout_ms: 5000 }),
    operatorKey: () => KEY,
    logger: new MemoryLogger(),
    clock: systemClock,
  });
}

function routed() {
  const provider = anthropic();
  return world({
    backends: [],
    plan: [
      { provider: 'anthropic', model: 'claude-sonnet-4-6' },
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
    ],
    operatorKeys: { anthropic: KEY },
    operatorAllowed: ['g1'],
    options: { timeouts: { firstTokenMs: 400, connectMs: 2000 } },
    extra: { providers: { getProvider: (name) => (name === 'anthropic' ? provider : undefined) }, clock: systemClock },
  });
}

async function drain(events: AsyncIterable<RouterStreamEvent>): Promise<string> {
  let text = '';
  for await (const e of events) if (e.type === 'text') text += e.delta;
  return text;
}

describe('billing failed attempts from reported usage', () => {
  it('bills a stream that timed out after message_start, then serves from the fallback', async () => {
    const w = routed();
    // Headers and message_start (with the input count), then nothing: the first-token timer fires.
    emu.faults.enqueue({ type: 'hang', afterDeltas: 0 });
    const request = ask('What happened in #general today?');
    const text = await drain(w.router.stream(request, ctx({ task: 'chat' })));
    expect(text.length).toBeGreaterThan(0);

    const [failed, ok] = w.ledger.records;
    const input = countTokens(request.system) + countTokens(request.turns[0]!.content);
    expect(failed).toMatchObject({
      outcome: 'attempt-failed:timeout',
      provider: 'anthropic',
      model: 'claude-sonnet-4-6',
      inputTokens: input,
      estimated: false,
    });
    // Sonnet's input price, $3 per million tokens (the one output token message_start reports, $15 per million).
    expect(failed!.costUsd).toBeCloseTo((input * 3 + failed!.outputTokens * 15) / 1e6, 12);
    expect(ok).toMatchObject({ outcome: 'ok', model: 'claude-haiku-4-5' });
    expect(w.ledger.records).toHaveLength(2);
  });

  it('prices a stream cut after its first text with the reported input count', async () => {
    const w = routed();
    emu.faults.enqueue({ type: 'cut_stream', afterDeltas: 2 });
    const request = ask('Summarize the release thread.');
    await expect(drain(w.router.stream(request, ctx({ task: 'chat' })))).rejects.toMatchObject({ name: 'ProviderError' });
    const [row] = w.ledger.records;
    const input = countTokens(request.system) + countTokens(request.turns[0]!.content);
    expect(row).toMatchObject({ outcome: 'error:network', inputTokens: input, estimated: true });
    expect(row!.costUsd).toBeGreaterThan(0);
  });

  it('records nothing extra when a failure came before any usage (a 529 before the stream started)', async () => {
    const w = routed();
    emu.faults.enqueue({ type: 'overloaded' });
    await drain(w.router.stream(ask(), ctx({ task: 'chat' })));
    expect(w.ledger.records.map((r) => r.outcome)).toEqual(['ok']);
  });
});

describe('the Anthropic stream reports usage before its text', () => {
  it('yields a usage event with message_start\'s input count ahead of the first delta', async () => {
    const request = ask('Who owns the changelog?');
    const events = [];
    for await (const e of anthropic().stream({ ...request, model: 'claude-sonnet-4-6' })) events.push(e);
    expect(events[0]).toEqual({
      type: 'usage',
      usage: { inputTokens: countTokens(request.system) + countTokens(request.turns[0]!.content), outputTokens: 1 },
    });
    expect(events[1]?.type).toBe('text');
    expect(events.at(-1)?.type).toBe('finish');
  });
});

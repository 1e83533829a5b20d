/**
 * Parameter refusals and Retry-After as the real APIs send them, through the
 * real provider plugins against the emulators, into the router's decisions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../plugins/anthropic/provider.ts';
import { parseSettings as anthropicSettings } from '../../plugins/anthropic/settings.ts';
import { OpenAICompatibleProvider } from '../../plugins/openai-compatible/provider.ts';
import { parseSettings as openAISettings } from '../../plugins/openai-compatible/settings.ts';
import type { Provider } from '../../src/llm/provider-spec/contract.ts';
import type { Target } from '../../src/llm/router/types.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { start as startOpenAI, type OpenAIEmulator } from '../emulators/openai/server.ts';
import { MemoryLogger, ask, ctx, world } from './support.ts';

const ANTHROPIC_KEY = 'sk-ant-operator-0123456789';
const OPENAI_KEY = 'sk-openai-operator-0123456789';
let anthropicEmu: AnthropicEmulator | undefined;
let openaiEmu: OpenAIEmulator | undefined;

afterEach(async () => {
  await anthropicEmu?.close();
  await openaiEmu?.close();
  anthropicEmu = openaiEmu = undefined;
});

function routerOver(providers: Provider[], plan: Target[]) {
  const byName = new Map(providers.map((p) => [p.name, p] as const));
  return world({
    backends: [],
    plan,
    operatorKeys: { anthropic: ANTHROPIC_KEY, 'openai-compatible': OPENAI_KEY },
    operatorAllowed: ['g1'],
    extra: { providers: { getProvider: (name) => byName.get(name) } },
  });
}

describe('refusals and Retry-After from the emulated APIs', () => {
  it('a model that refuses max_tokens (400 unsupported_parameter) falls back to the next target', async () => {
    openaiEmu = await startOpenAI({ keys: { operator: OPENAI_KEY }, models: ['o4-mini'], maxCompletionTokensOnly: ['o4-mini'] });
    anthropicEmu = await startAnthropic({ keys: { operator: ANTHROPIC_KEY } });
    const openai = new OpenAICompatibleProvider({
      settings: openAISettings({ base_url: openaiEmu.baseUrl, timeout_ms: 5000, model: 'o4-mini', context_window: 128_000 }),
      operatorKey: () => OPENAI_KEY,
      clock: systemClock,
    });
    const anthropic = new AnthropicProvider({
      settings: anthropicSettings({ base_url: anthropicEmu.baseUrl, timeout_ms: 5000 }),
      operatorKey: () => ANTHROPIC_KEY,
      logger: new MemoryLogger(),
      clock: systemClock,
    });
    const w = routerOver(
      [openai, anthropic],
      [
        { provider: 'openai-compatible', model: 'o4-mini' },
        { provider: 'anthropic', model: 'claude-haiku-4-5' },
      ],
    );
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('anthropic');
    expect(res.attempts[0]).toMatchObject({ provider: 'openai-compatible', status: 'failed', reason: 'unsupported_parameter' });
    expect(res.attempts[0]!.detail).toContain('max_tokens');
  });

  it('a 529 with Retry-After: 3 is retried no sooner than three seconds later', async () => {
    anthropicEmu = await startAnthropic({ keys: { operator: ANTHROPIC_KEY } });
    const anthropic = new AnthropicProvider({
      settings: anthropicSettings({ base_url: anthropicEmu.baseUrl, timeout_ms: 5000 }),
      operatorKey: () => ANTHROPIC_KEY,
      logger: new MemoryLogger(),
      clock: systemClock,
    });
    anthropicEmu.faults.enqueue({ type: 'overloaded', retryAfterSeconds: 3 });
    const w = routerOver([anthropic], [{ provider: 'anthropic', model: 'claude-haiku-4-5' }]);
    const res = await w.router.generate(ask(), ctx());
    expect(res.attempts.map((a) => [a.status, a.reason])).toEqual([
      ['failed', 'overloaded'],
      ['ok', undefined],
    ]);
    expect(Math.max(...w.waits)).toBeGreaterThanOrEqual(3_000);
  });
});

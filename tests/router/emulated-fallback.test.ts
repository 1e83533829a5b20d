/**
 * Fallbacks on a retired model or a refused parameter, through the real
 * provider plugins (Anthropic SDK, fetch) against the Anthropic and OpenAI
 * emulators on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../plugins/anthropic/provider.ts';
import { parseSettings as anthropicSettings } from '../../plugins/anthropic/settings.ts';
import { OpenAICompatibleProvider } from '../../plugins/openai-compatible/provider.ts';
import { parseSettings as openAISettings } from '../../plugins/openai-compatible/settings.ts';
import type { Provider } from '../../src/llm/provider-spec/contract.ts';
import type { RouterError } from '../../src/llm/router/errors.ts';
import type { Target } from '../../src/llm/router/types.ts';
import { systemClock } from '../../src/resilience/clock.ts';
import { DEFAULT_MODELS as ANTHROPIC_MODELS, start as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import { start as startOpenAI, type OpenAIEmulator } from '../emulators/openai/server.ts';
import { MemoryLogger, ask, ctx, failure, world } from './support.ts';

const ANTHROPIC_KEY = 'sk-ant-operator-0123456789';
const OPENAI_KEY = 'sk-openai-operator-0123456789';
const RETIRED = 'claude-3-opus-20240229';

let anthropicEmu: AnthropicEmulator;
let openaiEmu: OpenAIEmulator;

async function emulators(options: { anthropicDefaultOnly?: string[]; openaiDefaultOnly?: string[] } = {}) {
  anthropicEmu = await startAnthropic({
    keys: { operator: ANTHROPIC_KEY },
    models: [...ANTHROPIC_MODELS, 'claude-next'],
    defaultTemperatureOnly: options.anthropicDefaultOnly ?? [],
  });
  openaiEmu = await startOpenAI({ keys: { operator: OPENAI_KEY }, defaultTemperatureOnly: options.openaiDefaultOnly ?? [] });
}

function anthropic(config: Record<string, unknown> = {}): Provider {
  return new AnthropicProvider({
    settings: anthropicSettings({ base_url: anthropicEmu.baseUrl, timeout_ms: 5000, ...config }),
    operatorKey: () => ANTHROPIC_KEY,
    logger: new MemoryLogger(),
    clock: systemClock,
  });
}

function openai(config: Record<string, unknown> = {}): Provider {
  return new OpenAICompatibleProvider({
    settings: openAISettings({ base_url: openaiEmu.baseUrl, timeout_ms: 5000, model: 'gpt-4o-mini', context_window: 128_000, ...config }),
    operatorKey: () => OPENAI_KEY,
    clock: systemClock,
  });
}

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

afterEach(async () => {
  await anthropicEmu?.close();
  await openaiEmu?.close();
});

describe('fallback on a retired model (emulators)', () => {
  it('serves from the secondary when the primary model is retired, and passes the retired model over next time', async () => {
    await emulators();
    const w = routerOver(
      [anthropic({ model: RETIRED }), openai()],
      [
        { provider: 'anthropic', model: RETIRED },
        { provider: 'openai-compatible', model: 'gpt-4o-mini' },
      ],
    );
    const first = await w.router.generate(ask(), ctx());
    expect(first.provider).toBe('openai-compatible');
    expect(first.attempts[0]).toMatchObject({ provider: 'anthropic', status: 'failed', reason: 'model_unavailable' });
    expect(first.attempts[0]?.detail).toContain('404');

    const second = await w.router.generate(ask(), ctx());
    expect(second.provider).toBe('openai-compatible');
    expect(second.attempts[0]).toMatchObject({ provider: 'anthropic', status: 'skipped', reason: 'model_unavailable' });
    expect(anthropicEmu.completions()).toHaveLength(1);
    expect(openaiEmu.completions()).toHaveLength(2);
  });

  it('falls back from a retired OpenAI model (model_not_found) to Anthropic', async () => {
    await emulators();
    const w = routerOver(
      [openai({ model: 'gpt-3.5-turbo-0301' }), anthropic()],
      [
        { provider: 'openai-compatible', model: 'gpt-3.5-turbo-0301' },
        { provider: 'anthropic', model: 'claude-haiku-4-5' },
      ],
    );
    const res = await w.router.generate(ask(), ctx());
    expect(res.provider).toBe('anthropic');
    expect(res.attempts[0]).toMatchObject({ provider: 'openai-compatible', reason: 'model_unavailable' });
  });
});

describe('temperature fitted to the target (emulators)', () => {
  it('serves temperature 1.5 from Anthropic by clamping it to 1', async () => {
    await emulators();
    const w = routerOver([anthropic()], [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }]);
    const res = await w.router.generate(ask('hi', { temperature: 1.5 }), ctx());
    expect(res.provider).toBe('anthropic');
    expect(anthropicEmu.completions()[0]?.body).toMatchObject({ temperature: 1 });
  });

  it('sends no temperature to a model declared to take only its default', async () => {
    await emulators({ anthropicDefaultOnly: ['claude-next'] });
    const models = [{ id: 'claude-next', context_window: 200_000, max_output_tokens: 8000, input_price: 3, output_price: 15, temperature: false }];
    const w = routerOver([anthropic({ models })], [{ provider: 'anthropic', model: 'claude-next' }]);
    const res = await w.router.generate(ask('hi', { temperature: 0.3 }), ctx());
    expect(res.provider).toBe('anthropic');
    expect(anthropicEmu.completions()[0]?.body).not.toHaveProperty('temperature');
  });

  it('moves on when an undeclared model refuses the temperature, and says so when no target accepts it', async () => {
    await emulators({ openaiDefaultOnly: ['gpt-4o-mini'], anthropicDefaultOnly: ['claude-haiku-4-5'] });
    const w = routerOver(
      [openai(), anthropic({ models: [{ id: 'claude-haiku-4-5', context_window: 200_000, max_output_tokens: 8000, input_price: 1, output_price: 5, temperature: { max: 1 } }] })],
      [
        { provider: 'openai-compatible', model: 'gpt-4o-mini' },
        { provider: 'anthropic', model: 'claude-haiku-4-5' },
      ],
    );
    const err = (await failure(w.router.generate(ask('hi', { temperature: 0.2 }), ctx()))) as RouterError;
    expect(err.kind).toBe('bad_request');
    expect(err.attempts.map((a) => a.reason)).toEqual(['unsupported_parameter', 'unsupported_parameter']);
    expect(err.message).toContain('no provider accepted the request');
    expect(err.message).toContain('temperature');
    expect(w.waits).toEqual([]);
  });
});

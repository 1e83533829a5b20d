/**
 * The anthropic plugin driven through the real @anthropic-ai/sdk over
 * loopback HTTP against the Anthropic emulator: the shared provider contract,
 * then what only this plugin does.
 */
import { describe, expect, it } from 'vitest';
import createAnthropicPlugin from '../../plugins/anthropic/index.ts';
import { start } from '../emulators/anthropic/server.ts';
import { describeProviderContract, SYSTEM, useProviderFixture, type ProviderTarget } from './contract.ts';

const anthropic: ProviderTarget = {
  plugin: 'anthropic',
  factory: createAnthropicPlugin,
  startEmulator: (keys) => start({ keys }),
  keys: { operator: 'sk-ant-operator-0123456789', guild: 'sk-ant-guild-9876543210', rejected: 'sk-ant-wrong-key-555' },
  model: 'claude-haiku-4-5',
  keyRequiredConfig: {},
  faults: [
    ['429', { type: 'rate_limited', retryAfterSeconds: 7 }, 'rate_limited', 429],
    ['529', { type: 'overloaded' }, 'overloaded', 529],
    ['503', { type: 'unavailable' }, 'overloaded', 503],
    ['500', { type: 'server_error' }, 'server', 500],
    ['prompt too long', { type: 'context_length', maxTokens: 1000 }, 'context_length', 400],
    ['other 400', { type: 'bad_request' }, 'bad_request', 400],
    ['garbage JSON', { type: 'garbage_json' }, 'invalid_response', undefined],
    ['body cut mid-way', { type: 'cut_stream' }, 'network', undefined],
  ],
  contextLengthMessage: /prompt is too long: \d+ tokens > 1000 maximum/,
  streamErrorMessage: 'Overloaded',
  expectSentGenerate: (sent) => {
    expect(sent.call).toMatchObject({ model: 'claude-haiku-4-5', system: SYSTEM, maxTokens: 200, stream: false });
    expect(sent.call?.messages).toHaveLength(3);
    expect(sent.body).toMatchObject({ temperature: 0.2, stop_sequences: ['NEVER'] });
  },
  expectSentStream: (sent) => {
    expect(sent.call?.stream).toBe(true);
  },
};

describeProviderContract(anthropic);

describe('anthropic plugin settings', () => {
  const f = useProviderFixture(anthropic);

  it('declares itself from the manifest and offers default Claude models with prices', () => {
    expect(f.manifest.name).toBe('anthropic');
    expect(f.manifest.kind).toBe('provider');
    expect(f.provider.name).toBe('anthropic');
    expect(f.provider.requiresKey).toBe(true);
    const sonnet = f.provider.models.find((m) => m.id === 'claude-sonnet-4-6');
    expect(sonnet).toMatchObject({ inputPricePerMTok: 3, outputPricePerMTok: 15, contextWindow: 200_000 });
    expect(f.provider.models.map((m) => m.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-5']);
  });

  it('takes models from config and rejects a bad entry with its path', async () => {
    const custom = await f.makeProvider({
      models: [{ id: 'claude-x', context_window: 1000, max_output_tokens: 100, input_price: 0.5, output_price: 2 }],
    });
    expect(custom.models).toEqual([
      { id: 'claude-x', contextWindow: 1000, maxOutputTokens: 100, streaming: true, inputPricePerMTok: 0.5, outputPricePerMTok: 2, temperature: { max: 1 } },
    ]);
    const fixed = await f.makeProvider({
      models: [{ id: 'claude-y', context_window: 1000, max_output_tokens: 100, input_price: 0.5, output_price: 2, temperature: false }],
    });
    expect(fixed.models[0]?.temperature).toBe(false);
    await expect(
      f.makeProvider({ models: [{ id: 'claude-y', context_window: 1000, max_output_tokens: 100, input_price: 0.5, output_price: 2, temperature: { max: 3 } }] }),
    ).rejects.toThrow(/anthropic config: models\.0\.temperature/);
    await expect(
      f.makeProvider({ models: [{ id: 'claude-x', context_window: 1000, max_output_tokens: 100, input_price: -1, output_price: 2 }] }),
    ).rejects.toThrow(/anthropic config: models\.0\.input_price/);
    await expect(f.makeProvider({ base_url: 'ftp://nowhere' })).rejects.toThrow(/base_url/);
  });
});

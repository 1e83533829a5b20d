/**
 * The openai-compatible plugin driven through Node's fetch and
 * eventsource-parser over loopback HTTP against the OpenAI-style emulator:
 * the shared provider contract, then what only this plugin does.
 */
import { describe, expect, it } from 'vitest';
import createOpenAICompatiblePlugin from '../../plugins/openai-compatible/index.ts';
import { start } from '../emulators/openai/server.ts';
import {
  describeProviderContract,
  EXPECTED_TEXT,
  SYSTEM,
  textOf,
  useProviderFixture,
  type ProviderTarget,
} from './contract.ts';
import { collect, failure } from './support.ts';

const openai: ProviderTarget = {
  plugin: 'openai-compatible',
  factory: createOpenAICompatiblePlugin,
  startEmulator: (keys) => start({ keys }),
  keys: { operator: 'sk-proj-operator-0123456789', guild: 'sk-or-guild-9876543210', rejected: 'sk-wrong-key-555' },
  model: 'gpt-4o-mini',
  keyRequiredConfig: { require_key: true },
  faults: [
    ['429', { type: 'rate_limited', retryAfterSeconds: 3 }, 'rate_limited', 429],
    ['503', { type: 'overloaded' }, 'overloaded', 503],
    ['500', { type: 'server_error' }, 'server', 500],
    ['context_length_exceeded', { type: 'context_length', maxTokens: 4096 }, 'context_length', 400],
    ['other 400', { type: 'bad_request' }, 'bad_request', 400],
    ['garbage JSON', { type: 'garbage_json' }, 'invalid_response', undefined],
    ['body cut mid-way', { type: 'cut_stream' }, 'network', undefined],
  ],
  contextLengthMessage: /maximum context length is 1000 tokens/,
  streamErrorMessage: 'Upstream overloaded',
  expectSentGenerate: (sent) => {
    expect(sent.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
      max_tokens: 200,
      temperature: 0.2,
      stop: ['NEVER'],
    });
  },
  expectSentStream: (sent) => {
    expect(sent.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  },
};

describeProviderContract(openai);

describe('openai-compatible plugin settings', () => {
  const f = useProviderFixture(openai);

  it('takes its provider name from config, defaulting to the plugin name', async () => {
    expect(f.manifest.name).toBe('openai-compatible');
    expect(f.provider.name).toBe('openai-compatible');
    expect(f.provider.requiresKey).toBe(false);
    expect(f.provider.models.map((m) => m.id)).toEqual(['gpt-4o-mini', 'gpt-4.1-mini']);
    const named = await f.makeProvider({ name: 'openrouter', require_key: true });
    expect(named.name).toBe('openrouter');
    expect(named.requiresKey).toBe(true);
    const err = await failure(named.generate(f.request({ model: 'nope' })));
    expect(err.details.provider).toBe('openrouter');
    expect(err.message).toMatch(/^openrouter: /);
  });

  it('rejects bad settings with the field path', async () => {
    await expect(f.makeProvider({ name: 'Not Valid' })).rejects.toThrow(/openai-compatible config: name:/);
    await expect(f.makeProvider({ headers: { 'bad header': 'x' } })).rejects.toThrow(/headers/);
    await expect(f.makeProvider({ headers: { 'x-ok': 'a\r\nInjected: 1' } })).rejects.toThrow(/line breaks/);
    await expect(f.makeProvider({ models: [{ id: '', context_window: 1, max_output_tokens: 1 }] })).rejects.toThrow(
      /models\.0\.id/,
    );
  });

  it('can name the token cap max_completion_tokens', async () => {
    const capped = await f.makeProvider({ max_tokens_field: 'max_completion_tokens' });
    const res = await capped.generate(f.request({ maxTokens: 3 }));
    expect(res.finishReason).toBe('length');
    expect(res.usage.outputTokens).toBe(3);
    expect(f.emu.completions()[0]?.body).toMatchObject({ max_completion_tokens: 3 });
    expect(f.emu.completions()[0]?.body).not.toHaveProperty('max_tokens');
  });

  it('works keyless against a server that needs no key (Ollama, vLLM), sending no Authorization', async () => {
    await f.restartEmulator(null);
    const local = await f.makeProvider({ name: 'ollama' }, null);
    expect((await local.generate(f.request())).text).toBe(EXPECTED_TEXT);
    expect(textOf((await collect(local.stream(f.request()))).events)).toBe(EXPECTED_TEXT);
    expect(f.emu.completions().map((r) => r.authPresent)).toEqual([false, false]);
  });

  it('sends configured extra headers (OpenRouter attribution)', async () => {
    const routed = await f.makeProvider({ headers: { 'HTTP-Referer': 'https://recap.example', 'X-Title': 'recap-bot' } });
    await routed.generate(f.request());
    await collect(routed.stream(f.request()));
    expect(f.emu.completions()).toHaveLength(2);
    for (const sent of f.emu.completions()) {
      expect(sent.headers).toMatchObject({ 'http-referer': 'https://recap.example', 'x-title': 'recap-bot' });
    }
  });

  it('maps an unknown model (404 model_not_found) to model_unavailable', async () => {
    const err = await failure(f.provider.generate(f.request({ model: 'gpt-nonexistent' })));
    expect(err.kind).toBe('model_unavailable');
    expect(err.details.status).toBe(404);
    expect(err.message).toContain('does not exist');
  });
});

/**
 * The openai-compatible plugin driven through Node's fetch and
 * eventsource-parser over loopback HTTP against the OpenAI-style emulator.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import createOpenAICompatiblePlugin from '../../plugins/openai-compatible/index.ts';
import {
  ProviderError,
  type GenerateRequest,
  type Provider,
  type StreamEvent,
} from '../../src/providers/contract.ts';
import type { PluginContext, PluginManifest } from '../../src/plugins/types.ts';
import type { Behaviour } from '../emulators/llm-faults.ts';
import { collect, contextFor, failure, loadManifest, type LogEntry } from './support.ts';
import { start, type OpenAIEmulator, type OpenAIEmulatorOptions } from '../emulators/openai/server.ts';

const OPERATOR_KEY = 'sk-proj-operator-0123456789';
const GUILD_KEY = 'sk-or-guild-9876543210';


const SYSTEM = 'You summarize Discord channels.\nBe brief.';
/** The emulator counts ceil(chars / 4) per system text and per turn of `request()`. */
const EXPECTED_INPUT_TOKENS = Math.ceil(SYSTEM.length / 4) + 2 + 1 + 2;
const EXPECTED_TEXT = 'Echo of "You summarize Discord channels." after 2 user turns.';

const textOf = (events: StreamEvent[]) =>
  events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

describe('openai-compatible plugin against the emulator', () => {
  let emu: OpenAIEmulator;
  let manifest: PluginManifest;
  let logs: LogEntry[];
  let provider: Provider;

  const startEmulator = async (options: OpenAIEmulatorOptions = { keys: { operator: OPERATOR_KEY, guild: GUILD_KEY } }) => {
    await emu?.close();
    emu = await start(options);
  };

  /** `key: null` leaves the operator secret unset. */
  const makeProvider = async (config: Record<string, unknown> = {}, key: string | null = OPERATOR_KEY) => {
    const instance = await createOpenAICompatiblePlugin(
      contextFor(manifest, { base_url: emu.baseUrl, ...config }, { api_key: key ?? undefined }, logs),
    );
    if (instance.kind !== 'provider') throw new Error('expected a provider plugin');
    return instance.provider;
  };

  const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    system: SYSTEM,
    turns: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'second' },
    ],
    model: 'gpt-4o-mini',
    maxTokens: 200,
    ...over,
  });

  beforeAll(async () => {
    manifest = await loadManifest('openai-compatible');
  });
  beforeEach(async () => {
    await startEmulator();
    logs = [];
    provider = await makeProvider();
  });
  afterEach(() => emu.close());

  it('takes its provider name from config, defaulting to the plugin name', async () => {
    expect(manifest.name).toBe('openai-compatible');
    expect(provider.name).toBe('openai-compatible');
    expect(provider.requiresKey).toBe(false);
    expect(provider.models.map((m) => m.id)).toEqual(['gpt-4o-mini', 'gpt-4.1-mini']);
    const named = await makeProvider({ name: 'openrouter', require_key: true });
    expect(named.name).toBe('openrouter');
    expect(named.requiresKey).toBe(true);
    const err = await failure(named.generate(request({ model: 'nope' })));
    expect(err.details.provider).toBe('openrouter');
    expect(err.message).toMatch(/^openrouter: /);
  });

  it('rejects bad settings with the field path', async () => {
    await expect(makeProvider({ name: 'Not Valid' })).rejects.toThrow(/openai-compatible config: name:/);
    await expect(makeProvider({ headers: { 'bad header': 'x' } })).rejects.toThrow(/headers/);
    await expect(makeProvider({ headers: { 'x-ok': 'a\r\nInjected: 1' } })).rejects.toThrow(/line breaks/);
    await expect(makeProvider({ models: [{ id: '', context_window: 1, max_output_tokens: 1 }] })).rejects.toThrow(/models\.0\.id/);
  });

  it('generates: text, usage, finish, and the request as sent', async () => {
    const res = await provider.generate(request({ temperature: 0.3, stop: ['NEVER'] }));
    expect(res).toEqual({
      text: EXPECTED_TEXT,
      finishReason: 'stop',
      usage: { inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(EXPECTED_TEXT.length / 4) },
      provider: 'openai-compatible',
      model: 'gpt-4o-mini',
    });
    const [sent] = emu.completions();
    expect(sent?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
      max_tokens: 200,
      temperature: 0.3,
      stop: ['NEVER'],
    });
    expect(sent?.keyLabel).toBe('operator');
    expect(JSON.stringify(sent?.headers)).not.toContain(OPERATOR_KEY);
  });

  it('reports length when the token cap cuts the answer, and can name the cap max_completion_tokens', async () => {
    const capped = await makeProvider({ max_tokens_field: 'max_completion_tokens' });
    const res = await capped.generate(request({ maxTokens: 3 }));
    expect(res.finishReason).toBe('length');
    expect(res.usage.outputTokens).toBe(3);
    expect(emu.completions()[0]?.body).toMatchObject({ max_completion_tokens: 3 });
    expect(emu.completions()[0]?.body).not.toHaveProperty('max_tokens');
  });

  it('streams several deltas, then one finish with the usage the server reported', async () => {
    const { events, error } = await collect(provider.stream(request()));
    expect(error).toBeUndefined();
    expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(3);
    expect(textOf(events)).toBe(EXPECTED_TEXT);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(EXPECTED_TEXT.length / 4) },
      provider: 'openai-compatible',
      model: 'gpt-4o-mini',
    });
    expect(events.filter((e) => e.type === 'finish')).toHaveLength(1);
    expect(emu.completions()[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('works keyless against a server that needs no key (Ollama, vLLM), sending no Authorization', async () => {
    await startEmulator({ keys: null });
    const local = await makeProvider({ name: 'ollama' }, null);
    expect((await local.generate(request())).text).toBe(EXPECTED_TEXT);
    expect(textOf((await collect(local.stream(request()))).events)).toBe(EXPECTED_TEXT);
    expect(emu.completions().map((r) => r.authPresent)).toEqual([false, false]);
  });

  it('refuses without a key when require_key is set, without calling the server', async () => {
    const strict = await makeProvider({ require_key: true }, null);
    expect((await failure(strict.generate(request()))).kind).toBe('auth');
    expect(emu.requests).toHaveLength(0);
  });

  it('sends configured extra headers (OpenRouter attribution)', async () => {
    const routed = await makeProvider({ headers: { 'HTTP-Referer': 'https://recap.example', 'X-Title': 'recap-bot' } });
    await routed.generate(request());
    await collect(routed.stream(request()));
    for (const sent of emu.completions()) {
      expect(sent.headers).toMatchObject({ 'http-referer': 'https://recap.example', 'x-title': 'recap-bot' });
    }
  });

  it('uses the per-request key when one is given, the operator key otherwise', async () => {
    await provider.generate(request({ apiKey: GUILD_KEY }));
    await provider.generate(request());
    await collect(provider.stream(request({ apiKey: GUILD_KEY })));
    expect(emu.completions().map((r) => r.keyLabel)).toEqual(['guild', 'operator', 'guild']);
  });

  it('maps a rejected key to auth without echoing it', async () => {
    const err = await failure(provider.generate(request({ apiKey: 'sk-wrong-key-555' })));
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.message).not.toContain('sk-wrong-key-555');
  });

  it('maps an unknown model (404) to bad_request', async () => {
    const err = await failure(provider.generate(request({ model: 'gpt-nonexistent' })));
    expect(err.kind).toBe('bad_request');
    expect(err.details.status).toBe(404);
    expect(err.message).toContain('does not exist');
  });

  const cases: Array<[string, Behaviour, ProviderError['kind'], number | undefined]> = [
    ['429', { type: 'rate_limited', retryAfterSeconds: 3 }, 'rate_limited', 429],
    ['503', { type: 'overloaded' }, 'overloaded', 503],
    ['500', { type: 'server_error' }, 'server', 500],
    ['context_length_exceeded', { type: 'context_length', maxTokens: 4096 }, 'context_length', 400],
    ['other 400', { type: 'bad_request' }, 'bad_request', 400],
    ['garbage JSON', { type: 'garbage_json' }, 'invalid_response', undefined],
    ['body cut mid-way', { type: 'cut_stream' }, 'network', undefined],
  ];

  it.each(cases)('generate maps %s', async (_label, behaviour, kind, status) => {
    emu.faults.enqueue(behaviour);
    const err = await failure(provider.generate(request()));
    expect(err.kind).toBe(kind);
    expect(err.details.status).toBe(status);
    expect(err.details.provider).toBe('openai-compatible');
    expect(err.details.model).toBe('gpt-4o-mini');
  });

  it('carries retry-after as milliseconds, and the context message', async () => {
    emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 3 }, { type: 'context_length', maxTokens: 4096 });
    expect((await failure(provider.generate(request()))).details.retryAfterMs).toBe(3000);
    expect((await failure(provider.generate(request()))).message).toContain('maximum context length is 4096 tokens');
  });

  it.each(cases.filter(([label]) => label !== 'body cut mid-way'))(
    'stream maps %s before any delta',
    async (_label, behaviour, kind) => {
      emu.faults.enqueue(behaviour);
      const { events, error } = await collect(provider.stream(request()));
      expect(events).toEqual([]);
      expect((error as ProviderError).kind).toBe(kind);
    },
  );

  it('surfaces a stream cut after some deltas as a network error, without a finish', async () => {
    emu.faults.enqueue({ type: 'cut_stream', afterDeltas: 3 });
    const { events, error } = await collect(provider.stream(request()));
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text']);
    expect((error as ProviderError).kind).toBe('network');
  });

  it('surfaces malformed SSE after some deltas as invalid_response', async () => {
    emu.faults.enqueue({ type: 'malformed_sse', afterDeltas: 2 });
    const { events, error } = await collect(provider.stream(request()));
    expect(events.map((e) => e.type)).toEqual(['text', 'text']);
    expect((error as ProviderError).kind).toBe('invalid_response');
  });

  it('surfaces an error object inside a 200 stream by its code', async () => {
    emu.faults.enqueue({ type: 'stream_error', afterDeltas: 1 });
    const { events, error } = await collect(provider.stream(request()));
    expect(events.map((e) => e.type)).toEqual(['text']);
    expect((error as ProviderError).kind).toBe('overloaded');
    expect((error as ProviderError).message).toContain('Upstream overloaded');
  });

  it('aborts a hung generate through the caller signal, closing the request', async () => {
    emu.faults.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = provider.generate(request({ signal: controller.signal }));
    // Abort only once the server holds the request, so the hang is what gets aborted.
    await vi.waitFor(() => expect(emu.completions()).toHaveLength(1));
    controller.abort();
    const err = await failure(pending);
    expect(err.kind).toBe('aborted');
    await vi.waitFor(() => expect(emu.completions()[0]?.interrupted).toBe(true));
  });

  it('aborts a stream stalled after some deltas', async () => {
    emu.faults.enqueue({ type: 'hang', afterDeltas: 2 });
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    let error: unknown;
    try {
      for await (const event of provider.stream(request({ signal: controller.signal }))) {
        events.push(event);
        if (events.length === 2) controller.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(events).toHaveLength(2);
    expect((error as ProviderError).kind).toBe('aborted');
  });

  it('times out a hang after timeout_ms and a stall between chunks', async () => {
    const quick = await makeProvider({ timeout_ms: 500 });
    emu.faults.enqueue({ type: 'hang' }, { type: 'hang', afterDeltas: 1 });
    expect((await failure(quick.generate(request()))).kind).toBe('timeout');
    const { events, error } = await collect(quick.stream(request()));
    expect(events.map((e) => e.type)).toEqual(['text']);
    expect((error as ProviderError).kind).toBe('timeout');
  });

  it('maps a refused connection to network', async () => {
    const gone = await start();
    await gone.close();
    const orphan = await makeProvider({ base_url: gone.baseUrl });
    expect((await failure(orphan.generate(request()))).kind).toBe('network');
  });

  it('closes the HTTP request when the consumer leaves a stream early', async () => {
    emu.faults.enqueue({ type: 'ok', deltaDelayMs: 100 });
    for await (const event of provider.stream(request())) {
      expect(event.type).toBe('text');
      break;
    }
    await vi.waitFor(() => expect(emu.completions()[0]?.interrupted).toBe(true));
  });

  it('health lists models only, never a completion', async () => {
    expect(await provider.health()).toEqual({ ok: true });
    expect(emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    expect(emu.requests[0]?.keyLabel).toBe('operator');
  });

  it('health reports no key when one is required, and a rejected key, without completions', async () => {
    const strict = await makeProvider({ require_key: true }, null);
    expect(await strict.health()).toEqual({ ok: false, detail: 'no key' });
    const wrong = await makeProvider({}, 'sk-not-valid');
    const health = await wrong.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/^auth:/);
    expect(emu.completions()).toHaveLength(0);
  });
});

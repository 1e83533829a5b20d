/**
 * The anthropic plugin driven through the real @anthropic-ai/sdk over
 * loopback HTTP against the Anthropic emulator.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import createAnthropicPlugin from '../../plugins/anthropic/index.ts';
import {
  ProviderError,
  type GenerateRequest,
  type Provider,
  type StreamEvent,
} from '../../src/providers/contract.ts';
import type { PluginContext, PluginManifest } from '../../src/plugins/types.ts';
import { start, type AnthropicEmulator } from '../emulators/anthropic/server.ts';
import type { Behaviour } from '../emulators/llm-faults.ts';
import { collect, contextFor, failure, loadManifest, type LogEntry } from './support.ts';

const OPERATOR_KEY = 'sk-ant-operator-0123456789';
const GUILD_KEY = 'sk-ant-guild-9876543210';


/** The emulator counts ceil(chars / 4) per system text and per turn of `request()`. */
const EXPECTED_INPUT_TOKENS = Math.ceil('You summarize Discord channels.\nBe brief.'.length / 4) + 2 + 1 + 2;

const textOf = (events: StreamEvent[]) =>
  events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

describe('anthropic plugin against the emulator', () => {
  let emu: AnthropicEmulator;
  let manifest: PluginManifest;
  let logs: LogEntry[];
  let provider: Provider;

  /** `key: null` leaves the operator secret unset. */
  const makeProvider = async (config: Record<string, unknown> = {}, key: string | null = OPERATOR_KEY) => {
    const instance = await createAnthropicPlugin(
      contextFor(manifest, { base_url: emu.baseUrl, ...config }, { api_key: key ?? undefined }, logs),
    );
    if (instance.kind !== 'provider') throw new Error('expected a provider plugin');
    return instance.provider;
  };

  const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    system: 'You summarize Discord channels.\nBe brief.',
    turns: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'second' },
    ],
    model: 'claude-haiku-4-5',
    maxTokens: 200,
    ...over,
  });

  beforeAll(async () => {
    manifest = await loadManifest('anthropic');
  });
  // A fresh emulator per test keeps recorded requests and scripts apart.
  beforeEach(async () => {
    emu = await start({ keys: { operator: OPERATOR_KEY, guild: GUILD_KEY } });
    logs = [];
    provider = await makeProvider();
  });
  afterEach(() => emu.close());

  it('declares itself from the manifest and offers default Claude models with prices', () => {
    expect(manifest.name).toBe('anthropic');
    expect(manifest.kind).toBe('provider');
    expect(provider.name).toBe('anthropic');
    expect(provider.requiresKey).toBe(true);
    const sonnet = provider.models.find((m) => m.id === 'claude-sonnet-4-6');
    expect(sonnet).toMatchObject({ inputPricePerMTok: 3, outputPricePerMTok: 15, contextWindow: 200_000 });
    expect(provider.models.map((m) => m.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-5']);
  });

  it('takes models from config and rejects a bad entry with its path', async () => {
    const custom = await makeProvider({
      models: [{ id: 'claude-x', context_window: 1000, max_output_tokens: 100, input_price: 0.5, output_price: 2 }],
    });
    expect(custom.models).toEqual([
      { id: 'claude-x', contextWindow: 1000, maxOutputTokens: 100, streaming: true, inputPricePerMTok: 0.5, outputPricePerMTok: 2 },
    ]);
    await expect(
      makeProvider({ models: [{ id: 'claude-x', context_window: 1000, max_output_tokens: 100, input_price: -1, output_price: 2 }] }),
    ).rejects.toThrow(/anthropic config: models\.0\.input_price/);
    await expect(makeProvider({ base_url: 'ftp://nowhere' })).rejects.toThrow(/base_url/);
  });

  it('generates: text from the request, usage, finish reason, and the request as sent', async () => {
    const res = await provider.generate(request({ temperature: 0.2, stop: ['NEVER'] }));
    expect(res.text).toBe('Echo of "You summarize Discord channels." after 2 user turns.');
    expect(res.finishReason).toBe('stop');
    expect(res.provider).toBe('anthropic');
    expect(res.model).toBe('claude-haiku-4-5');
    const [sent] = emu.completions();
    expect(sent?.call).toMatchObject({
      model: 'claude-haiku-4-5',
      system: 'You summarize Discord channels.\nBe brief.',
      maxTokens: 200,
      stream: false,
    });
    expect(sent?.call?.messages).toHaveLength(3);
    expect(sent?.body).toMatchObject({ temperature: 0.2, stop_sequences: ['NEVER'] });
    expect(res.usage).toEqual({ inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(res.text.length / 4) });
    expect(sent?.authPresent).toBe(true);
    expect(sent?.keyLabel).toBe('operator');
    expect(JSON.stringify(sent?.headers)).not.toContain(OPERATOR_KEY);
  });

  it('reports length when max tokens cut the answer', async () => {
    const res = await provider.generate(request({ maxTokens: 3 }));
    expect(res.finishReason).toBe('length');
    expect(res.usage.outputTokens).toBe(3);
  });

  it('streams several deltas, then one finish with usage', async () => {
    const { events, error } = await collect(provider.stream(request()));
    expect(error).toBeUndefined();
    const deltas = events.filter((e) => e.type === 'text');
    expect(deltas.length).toBeGreaterThan(3);
    const text = textOf(events);
    expect(text).toBe('Echo of "You summarize Discord channels." after 2 user turns.');
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(text.length / 4) },
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
    });
    expect(events.filter((e) => e.type === 'finish')).toHaveLength(1);
    expect(emu.completions()[0]?.call?.stream).toBe(true);
  });

  it('uses the per-request key when one is given, the operator key otherwise', async () => {
    await provider.generate(request({ apiKey: GUILD_KEY }));
    await provider.generate(request());
    await collect(provider.stream(request({ apiKey: GUILD_KEY })));
    expect(emu.completions().map((r) => r.keyLabel)).toEqual(['guild', 'operator', 'guild']);
  });

  it('refuses without any key and never calls the API', async () => {
    const keyless = await makeProvider({}, null);
    const err = await failure(keyless.generate(request()));
    expect(err.kind).toBe('auth');
    expect(emu.requests).toHaveLength(0);
  });

  it('maps a rejected key to auth without echoing it', async () => {
    const err = await failure(provider.generate(request({ apiKey: 'sk-ant-wrong-key-555' })));
    expect(err.kind).toBe('auth');
    expect(err.details.status).toBe(401);
    expect(err.message).not.toContain('sk-ant-wrong-key-555');
  });

  const cases: Array<[string, Behaviour, ProviderError['kind'], number | undefined]> = [
    ['429', { type: 'rate_limited', retryAfterSeconds: 7 }, 'rate_limited', 429],
    ['529', { type: 'overloaded' }, 'overloaded', 529],
    ['503', { type: 'unavailable' }, 'overloaded', 503],
    ['500', { type: 'server_error' }, 'server', 500],
    ['prompt too long', { type: 'context_length', maxTokens: 1000 }, 'context_length', 400],
    ['other 400', { type: 'bad_request' }, 'bad_request', 400],
    ['garbage JSON', { type: 'garbage_json' }, 'invalid_response', undefined],
    ['body cut mid-way', { type: 'cut_stream' }, 'network', undefined],
  ];

  it.each(cases)('generate maps %s', async (_label, behaviour, kind, status) => {
    emu.faults.enqueue(behaviour);
    const err = await failure(provider.generate(request()));
    expect(err.kind).toBe(kind);
    expect(err.details.status).toBe(status);
    expect(err.details.provider).toBe('anthropic');
    expect(err.details.model).toBe('claude-haiku-4-5');
  });

  it('carries retry-after as milliseconds', async () => {
    emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 7 });
    const err = await failure(provider.generate(request()));
    expect(err.details.retryAfterMs).toBe(7000);
    expect(err.retryable).toBe(true);
  });

  it('says which model window was exceeded in the context-length message', async () => {
    emu.faults.enqueue({ type: 'context_length', maxTokens: 1000 });
    const err = await failure(provider.generate(request()));
    expect(err.message).toMatch(/prompt is too long: \d+ tokens > 1000 maximum/);
    expect(err.retryable).toBe(false);
  });

  it.each(cases.filter(([label]) => label !== 'body cut mid-way'))(
    'stream maps %s before any delta',
    async (_label, behaviour, kind) => {
      emu.faults.enqueue(behaviour);
      const { events, error } = await collect(provider.stream(request()));
      expect(events).toEqual([]);
      expect(error).toBeInstanceOf(ProviderError);
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
    // The SDK logs the offending frame; only its own bounded message may reach our log.
    expect(JSON.stringify(logs)).not.toContain('brok');
  });

  it('surfaces an in-band stream error event (overloaded_error) after some deltas', async () => {
    emu.faults.enqueue({ type: 'stream_error', afterDeltas: 2 });
    const { events, error } = await collect(provider.stream(request()));
    expect(events.map((e) => e.type)).toEqual(['text', 'text']);
    expect((error as ProviderError).kind).toBe('overloaded');
  });

  it('aborts a hung generate through the caller signal', async () => {
    emu.faults.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = provider.generate(request({ signal: controller.signal }));
    // Abort only once the server holds the request, so the hang is what gets aborted.
    await vi.waitFor(() => expect(emu.completions()).toHaveLength(1));
    controller.abort();
    const err = await failure(pending);
    expect(err.kind).toBe('aborted');
    expect(err.retryable).toBe(false);
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

  it('times out a hang after timeout_ms and a stall between stream events', async () => {
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
    expect(emu.completions()).toHaveLength(0);
  });

  it('health reports no key, and a rejected key, without calling completions', async () => {
    const keyless = await makeProvider({}, null);
    expect(await keyless.health()).toEqual({ ok: false, detail: 'no key' });
    const wrong = await makeProvider({}, 'sk-ant-not-valid');
    const health = await wrong.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/^auth:/);
    expect(emu.completions()).toHaveLength(0);
  });

  it('never logs a key', async () => {
    emu.faults.enqueue({ type: 'malformed_sse' }, { type: 'server_error' });
    await collect(provider.stream(request({ apiKey: GUILD_KEY })));
    await provider.generate(request()).catch(() => undefined);
    await provider.health();
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(GUILD_KEY);
    expect(logged).not.toContain(OPERATOR_KEY);
  });
});

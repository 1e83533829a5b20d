/**
 * The provider contract every provider plugin keeps, run against the plugin's
 * own emulator over loopback HTTP. A plugin's test file names its target and
 * calls `describeProviderContract(target)`, then tests what only it does with
 * the same fixture (`useProviderFixture(target)`).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ProviderError,
  type GenerateRequest,
  type Provider,
  type StreamEvent,
} from '../../src/llm/provider-spec/contract.ts';
import type { PluginFactory, PluginManifest } from '../../src/llm/plugin-host/types.ts';
import type { Behaviour, KeySet, LlmEmulator, RecordedRequest } from '../emulators/llm-faults.ts';
import { collect, contextFor, failure, loadManifest, type LogEntry } from './support.ts';

/** A fault, the error kind it must map to, and the HTTP status the error carries. */
export type FaultCase = [label: string, behaviour: Behaviour, kind: ProviderError['kind'], status: number | undefined];

export interface ProviderTarget {
  /** The plugin's folder under plugins/, which is also the provider's default name. */
  plugin: string;
  factory: PluginFactory;
  startEmulator(keys: KeySet): Promise<LlmEmulator>;
  keys: { operator: string; guild: string; rejected: string };
  model: string;
  /** Settings under which a missing key is refused rather than tried. */
  keyRequiredConfig: Record<string, unknown>;
  /** Every fault the API answers with before a first delta; `cut_stream` is generate-only. */
  faults: FaultCase[];
  /** The context-length error message for a window of 1000 tokens. */
  contextLengthMessage: RegExp;
  /** What the dialect's in-band stream error says. */
  streamErrorMessage: string;
  /** The API's own shape of a request as sent for `request({ temperature: 0.2, stop: ['NEVER'] })`. */
  expectSentGenerate(sent: RecordedRequest): void;
  expectSentStream(sent: RecordedRequest): void;
}

export const SYSTEM = 'You summarize Discord channels.\nBe brief.';
/** The emulators echo the system text's first line and count the user turns. */
export const EXPECTED_TEXT = 'Echo of "You summarize Discord channels." after 2 user turns.';
/** The emulators count ceil(chars / 4) per system text and per turn of `request()`. */
export const EXPECTED_INPUT_TOKENS = Math.ceil(SYSTEM.length / 4) + 2 + 1 + 2;

export const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

export interface ProviderFixture {
  readonly emu: LlmEmulator;
  readonly provider: Provider;
  readonly manifest: PluginManifest;
  readonly logs: LogEntry[];
  /** `key: null` leaves the operator secret unset. */
  makeProvider(config?: Record<string, unknown>, key?: string | null): Promise<Provider>;
  request(over?: Partial<GenerateRequest>): GenerateRequest;
  /** Replaces this test's emulator (closing the old one), e.g. with `keys: null`. */
  restartEmulator(keys: KeySet): Promise<void>;
}

/** Registers the hooks: a fresh emulator, log and provider per test keep recorded requests and scripts apart. */
export function useProviderFixture(target: ProviderTarget): ProviderFixture {
  let emu: LlmEmulator;
  let provider: Provider;
  let manifest: PluginManifest;
  let logs: LogEntry[] = [];

  const makeProvider: ProviderFixture['makeProvider'] = async (config = {}, key = target.keys.operator) => {
    const instance = await target.factory(
      contextFor(manifest, { base_url: emu.baseUrl, ...config }, { api_key: key ?? undefined }, logs),
    );
    if (instance.kind !== 'provider') throw new Error('expected a provider plugin');
    return instance.provider;
  };

  beforeAll(async () => {
    manifest = await loadManifest(target.plugin);
  });
  beforeEach(async () => {
    emu = await target.startEmulator({ operator: target.keys.operator, guild: target.keys.guild });
    logs = [];
    provider = await makeProvider();
  });
  afterEach(() => emu.close());

  return {
    get emu() {
      return emu;
    },
    get provider() {
      return provider;
    },
    get manifest() {
      return manifest;
    },
    get logs() {
      return logs;
    },
    makeProvider,
    request: (over = {}) => ({
      system: SYSTEM,
      turns: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
      model: target.model,
      maxTokens: 200,
      ...over,
    }),
    restartEmulator: async (keys) => {
      await emu.close();
      emu = await target.startEmulator(keys);
    },
  };
}

export function describeProviderContract(target: ProviderTarget): void {
  describe(`${target.plugin} plugin keeps the provider contract`, () => {
    const f = useProviderFixture(target);
    const { operator, guild, rejected } = target.keys;

    it('generates: text from the request, usage, finish reason, and the request as sent', async () => {
      const res = await f.provider.generate(f.request({ temperature: 0.2, stop: ['NEVER'] }));
      expect(res).toEqual({
        text: EXPECTED_TEXT,
        finishReason: 'stop',
        usage: { inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(EXPECTED_TEXT.length / 4) },
        provider: target.plugin,
        model: target.model,
      });
      const [sent] = f.emu.completions();
      expect(sent).toBeDefined();
      target.expectSentGenerate(sent!);
      expect(sent?.authPresent).toBe(true);
      expect(sent?.keyLabel).toBe('operator');
      expect(JSON.stringify(sent?.headers)).not.toContain(operator);
    });

    it('reports length when max tokens cut the answer', async () => {
      const res = await f.provider.generate(f.request({ maxTokens: 3 }));
      expect(res.finishReason).toBe('length');
      expect(res.usage.outputTokens).toBe(3);
    });

    it('streams several deltas, then one finish with usage', async () => {
      const { events, error } = await collect(f.provider.stream(f.request()));
      expect(error).toBeUndefined();
      expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(3);
      expect(textOf(events)).toBe(EXPECTED_TEXT);
      expect(events.at(-1)).toEqual({
        type: 'finish',
        finishReason: 'stop',
        usage: { inputTokens: EXPECTED_INPUT_TOKENS, outputTokens: Math.ceil(EXPECTED_TEXT.length / 4) },
        provider: target.plugin,
        model: target.model,
      });
      expect(events.filter((e) => e.type === 'finish')).toHaveLength(1);
      target.expectSentStream(f.emu.completions()[0]!);
    });

    it('uses the per-request key when one is given, the operator key otherwise', async () => {
      await f.provider.generate(f.request({ apiKey: guild }));
      await f.provider.generate(f.request());
      await collect(f.provider.stream(f.request({ apiKey: guild })));
      expect(f.emu.completions().map((r) => r.keyLabel)).toEqual(['guild', 'operator', 'guild']);
    });

    it('refuses without a required key and never calls the API', async () => {
      const keyless = await f.makeProvider(target.keyRequiredConfig, null);
      const err = await failure(keyless.generate(f.request()));
      expect(err.kind).toBe('auth');
      expect(f.emu.requests).toHaveLength(0);
    });

    it('maps a rejected key to auth without echoing it', async () => {
      const err = await failure(f.provider.generate(f.request({ apiKey: rejected })));
      expect(err.kind).toBe('auth');
      expect(err.details.status).toBe(401);
      expect(err.message).not.toContain(rejected);
    });

    it.each(target.faults)('generate maps %s', async (_label, behaviour, kind, status) => {
      f.emu.faults.enqueue(behaviour);
      const err = await failure(f.provider.generate(f.request()));
      expect(err.kind).toBe(kind);
      expect(err.details.status).toBe(status);
      expect(err.details.provider).toBe(target.plugin);
      expect(err.details.model).toBe(target.model);
    });

    it('carries retry-after as milliseconds', async () => {
      f.emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 7 });
      const err = await failure(f.provider.generate(f.request()));
      expect(err.details.retryAfterMs).toBe(7000);
      expect(err.retryable).toBe(true);
    });

    it('says which model window was exceeded in the context-length message', async () => {
      f.emu.faults.enqueue({ type: 'context_length', maxTokens: 1000 });
      const err = await failure(f.provider.generate(f.request()));
      expect(err.message).toMatch(target.contextLengthMessage);
      expect(err.retryable).toBe(false);
    });

    it.each(target.faults.filter(([, behaviour]) => behaviour.type !== 'cut_stream'))(
      'stream maps %s before any delta',
      async (_label, behaviour, kind) => {
        f.emu.faults.enqueue(behaviour);
        const { events, error } = await collect(f.provider.stream(f.request()));
        expect(events).toEqual([]);
        expect(error).toBeInstanceOf(ProviderError);
        expect((error as ProviderError).kind).toBe(kind);
      },
    );

    it('surfaces a stream cut after some deltas as a network error, without a finish', async () => {
      f.emu.faults.enqueue({ type: 'cut_stream', afterDeltas: 3 });
      const { events, error } = await collect(f.provider.stream(f.request()));
      expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text']);
      expect((error as ProviderError).kind).toBe('network');
    });

    it('surfaces malformed SSE after some deltas as invalid_response', async () => {
      f.emu.faults.enqueue({ type: 'malformed_sse', afterDeltas: 2 });
      const { events, error } = await collect(f.provider.stream(f.request()));
      expect(events.map((e) => e.type)).toEqual(['text', 'text']);
      expect((error as ProviderError).kind).toBe('invalid_response');
      // Only a bounded message of our own may reach the log, never the offending frame.
      expect(JSON.stringify(f.logs)).not.toContain('brok');
    });

    it('surfaces an in-band stream error after some deltas as overloaded', async () => {
      f.emu.faults.enqueue({ type: 'stream_error', afterDeltas: 2 });
      const { events, error } = await collect(f.provider.stream(f.request()));
      expect(events.map((e) => e.type)).toEqual(['text', 'text']);
      expect((error as ProviderError).kind).toBe('overloaded');
      expect((error as ProviderError).message).toContain(target.streamErrorMessage);
    });

    it('aborts a hung generate through the caller signal, closing the request', async () => {
      f.emu.faults.enqueue({ type: 'hang' });
      const controller = new AbortController();
      const pending = f.provider.generate(f.request({ signal: controller.signal }));
      // Abort only once the server holds the request, so the hang is what gets aborted.
      await vi.waitFor(() => expect(f.emu.completions()).toHaveLength(1));
      controller.abort();
      const err = await failure(pending);
      expect(err.kind).toBe('aborted');
      expect(err.retryable).toBe(false);
      await vi.waitFor(() => expect(f.emu.completions()[0]?.interrupted).toBe(true));
    });

    it('aborts a stream stalled after some deltas', async () => {
      f.emu.faults.enqueue({ type: 'hang', afterDeltas: 2 });
      const controller = new AbortController();
      const events: StreamEvent[] = [];
      let error: unknown;
      try {
        for await (const event of f.provider.stream(f.request({ signal: controller.signal }))) {
          if (event.type === 'usage') continue;
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
      const quick = await f.makeProvider({ timeout_ms: 500 });
      f.emu.faults.enqueue({ type: 'hang' }, { type: 'hang', afterDeltas: 1 });
      expect((await failure(quick.generate(f.request()))).kind).toBe('timeout');
      const { events, error } = await collect(quick.stream(f.request()));
      expect(events.map((e) => e.type)).toEqual(['text']);
      expect((error as ProviderError).kind).toBe('timeout');
    });

    it('maps a refused connection to network', async () => {
      const gone = await target.startEmulator(null);
      await gone.close();
      const orphan = await f.makeProvider({ base_url: gone.baseUrl });
      expect((await failure(orphan.generate(f.request()))).kind).toBe('network');
    });

    it('closes the HTTP request when the consumer leaves a stream early', async () => {
      f.emu.faults.enqueue({ type: 'ok', deltaDelayMs: 100 });
      for await (const event of f.provider.stream(f.request())) {
        if (event.type === 'usage') continue;
        expect(event.type).toBe('text');
        break;
      }
      await vi.waitFor(() => expect(f.emu.completions()[0]?.interrupted).toBe(true));
    });

    it('health lists models with the operator key, never a completion', async () => {
      expect(await f.provider.health()).toEqual({ ok: true });
      expect(f.emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
      expect(f.emu.requests[0]?.keyLabel).toBe('operator');
      expect(f.emu.completions()).toHaveLength(0);
    });

    it('health reports no key, and a rejected key, without calling completions', async () => {
      const keyless = await f.makeProvider(target.keyRequiredConfig, null);
      expect(await keyless.health()).toEqual({ ok: false, detail: 'no key' });
      const wrong = await f.makeProvider({}, rejected);
      const health = await wrong.health();
      expect(health.ok).toBe(false);
      expect(health.detail).toMatch(/^auth:/);
      expect(f.emu.completions()).toHaveLength(0);
    });

    it('never logs a key', async () => {
      f.emu.faults.enqueue({ type: 'malformed_sse' }, { type: 'server_error' });
      await collect(f.provider.stream(f.request({ apiKey: guild })));
      await f.provider.generate(f.request()).catch(() => undefined);
      await f.provider.health();
      const logged = JSON.stringify(f.logs);
      expect(logged).not.toContain(guild);
      expect(logged).not.toContain(operator);
    });
  });
}

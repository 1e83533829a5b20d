/**
 * Claude through @anthropic-ai/sdk, behind the project's Provider contract.
 * The SDK never retries (`maxRetries: 0`): the router owns retries, fallbacks
 * and breakers, and needs every failure reported at once as a ProviderError.
 */
import Anthropic from '@anthropic-ai/sdk';
import { LRUCache } from 'lru-cache';
import {
  ProviderError,
  type FinishReason,
  type GenerateRequest,
  type GenerateResponse,
  type ModelInfo,
  PROVIDER_SPECIFICATION_VERSION,
  type PluginProvider,
  type ProviderHealth,
  type StreamEvent,
  type Usage,
} from '../../src/llm/provider-spec/contract.ts';
import type { PluginLogger } from '../../src/llm/plugin-host/types.ts';
import type { Clock } from '../../src/resilience/clock.ts';
import { StepDeadline } from '../../src/llm/provider-spec/step-deadline.ts';
import { toProviderError } from './errors.ts';
import type { AnthropicSettings } from './settings.ts';

interface AnthropicProviderDeps {
  settings: AnthropicSettings;
  /** The operator's key, read when needed (a guild's own key arrives on the request). */
  operatorKey: () => string | undefined;
  logger: PluginLogger;
  clock: Clock;
}

/** Guild keys come and go; a few clients cover the active ones without growing forever. */
const MAX_CLIENTS = 16;

/** A Map, not an object: the stop reason comes from the server and could name a prototype property. */
const FINISH = new Map<string, FinishReason>([
  ['end_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['stop_sequence', 'stop_sequence'],
  ['refusal', 'content_filter'],
]);

export class AnthropicProvider implements PluginProvider {
  readonly specificationVersion = PROVIDER_SPECIFICATION_VERSION;
  readonly name = 'anthropic';
  readonly requiresKey = true;
  readonly models: readonly ModelInfo[];
  readonly #deps: AnthropicProviderDeps;
  readonly #clients = new LRUCache<string, Anthropic>({ max: MAX_CLIENTS });

  constructor(deps: AnthropicProviderDeps) {
    this.#deps = deps;
    this.models = deps.settings.models;
  }

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    const client = this.#clientFor(request);
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs, request.signal);
    try {
      const message = await deadline.watch(client.messages.create(this.#params(request), { signal: deadline.signal }));
      return this.#toResponse(message, request.model);
    } catch (err) {
      throw this.#fail(err, request.model, deadline);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    const client = this.#clientFor(request);
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs, request.signal);
    let events: AsyncIterator<Anthropic.RawMessageStreamEvent> | undefined;
    try {
      const stream = await deadline.watch(
        client.messages.create({ ...this.#params(request), stream: true }, { signal: deadline.signal }),
      );
      events = stream[Symbol.asyncIterator]();
      let model = request.model;
      let usage: Usage = { inputTokens: 0, outputTokens: 0 };
      let stopReason: Anthropic.StopReason | null = null;
      let stopped = false;
      for (;;) {
        const next = await deadline.watch(events.next());
        if (next.done) break;
        const event = next.value;
        if (event.type === 'message_start') {
          model = event.message.model || model;
          usage = usageOf(event.message.usage);
          // Input and cache counts are known (and billed) from here on, even if the stream then fails.
          yield { type: 'usage', usage };
        } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          yield { type: 'text', delta: event.delta.text };
        } else if (event.type === 'message_delta') {
          stopReason = event.delta.stop_reason ?? stopReason;
          // message_delta carries cumulative counts; a field it leaves out keeps message_start's value.
          usage = {
            inputTokens: event.usage.input_tokens ?? usage.inputTokens,
            outputTokens: event.usage.output_tokens,
            cacheReadTokens: event.usage.cache_read_input_tokens ?? usage.cacheReadTokens,
            cacheWriteTokens: event.usage.cache_creation_input_tokens ?? usage.cacheWriteTokens,
          };
        } else if (event.type === 'message_stop') {
          stopped = true;
        }
      }
      // The SDK ends the iteration quietly when its signal aborts; only the flags tell.
      if (deadline.callerAborted || deadline.timedOut) throw new Error('stream ended by abort');
      if (!stopped) {
        throw new ProviderError('invalid_response', `${this.name}: stream ended before message_stop`, {
          provider: this.name,
          model: request.model,
        });
      }
      yield { type: 'finish', finishReason: finishReason(stopReason), usage: withoutEmptyCache(usage), provider: this.name, model };
    } catch (err) {
      throw this.#fail(err, request.model, deadline);
    } finally {
      deadline.dispose();
      // A consumer that stops early leaves the SDK stream open; returning it aborts the request.
      await events?.return?.().catch(() => undefined);
    }
  }

  /** Lists models (free); never asks for a completion. */
  async health(): Promise<ProviderHealth> {
    const key = this.#deps.operatorKey();
    if (!key) return { ok: false, detail: 'no key' };
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs);
    try {
      await deadline.watch(this.#client(key).models.list({ limit: 1 }, { signal: deadline.signal }));
      return { ok: true };
    } catch (err) {
      const failure = this.#fail(err, undefined, deadline);
      return { ok: false, detail: `${failure.kind}: ${failure.message}` };
    } finally {
      deadline.dispose();
    }
  }

  #clientFor(request: GenerateRequest): Anthropic {
    const key = request.apiKey ?? this.#deps.operatorKey();
    if (!key) {
      throw new ProviderError('auth', `${this.name}: no API key (set ANTHROPIC_API_KEY or a guild key)`, {
        provider: this.name,
        model: request.model,
      });
    }
    if (request.turns.length === 0) {
      throw new ProviderError('bad_request', `${this.name}: a request needs at least one turn`, {
        provider: this.name,
        model: request.model,
      });
    }
    return this.#client(key);
  }

  #client(key: string): Anthropic {
    let client = this.#clients.get(key);
    if (!client) {
      const { baseUrl, timeoutMs } = this.#deps.settings;
      client = new Anthropic({
        apiKey: key,
        baseURL: baseUrl,
        maxRetries: 0,
        // The SDK's timer covers only the wait for response headers; the step deadline covers the body and stream.
        timeout: timeoutMs,
        logger: sdkLogger(this.#deps.logger),
        logLevel: 'warn',
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  #params(request: GenerateRequest): Anthropic.MessageCreateParamsNonStreaming {
    return {
      model: request.model,
      max_tokens: request.maxTokens,
      messages: request.turns.map((t) =>
        t.cache ? { role: t.role, content: [{ type: 'text', text: t.content, cache_control: EPHEMERAL }] } : { role: t.role, content: t.content },
      ),
      // The system prompt is the same for every call of a task: always a cache breakpoint (the API ignores prefixes under its minimum).
      ...(request.system ? { system: [{ type: 'text', text: request.system, cache_control: EPHEMERAL }] } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.stop?.length ? { stop_sequences: request.stop } : {}),
    };
  }

  #toResponse(message: Anthropic.Message, requested: string): GenerateResponse {
    // The body is untrusted: a proxy or a broken server can answer 200 with anything.
    const shapeOk =
      typeof message === 'object' &&
      message !== null &&
      Array.isArray(message.content) &&
      typeof message.usage?.input_tokens === 'number' &&
      typeof message.usage.output_tokens === 'number';
    if (!shapeOk) {
      throw new ProviderError('invalid_response', `${this.name}: answer is not a Messages API message`, {
        provider: this.name,
        model: requested,
      });
    }
    const text = message.content
      .filter((b): b is Anthropic.TextBlock => b?.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text)
      .join('');
    return {
      text,
      finishReason: finishReason(message.stop_reason),
      usage: usageOf(message.usage),
      provider: this.name,
      model: typeof message.model === 'string' && message.model ? message.model : requested,
    };
  }

  #fail(err: unknown, model: string | undefined, deadline: StepDeadline): ProviderError {
    return toProviderError(err, {
      provider: this.name,
      ...(model !== undefined ? { model } : {}),
      callerAborted: deadline.callerAborted,
      timedOut: deadline.timedOut,
      now: this.#deps.clock.now(),
    });
  }
}

/** Anthropic's 5-minute prompt cache. */
const EPHEMERAL = { type: 'ephemeral' } as const;

/** `input_tokens` excludes cache reads and writes, which the API counts (and bills) apart. */
function usageOf(u: Anthropic.Usage): Usage {
  return withoutEmptyCache({
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheReadTokens: u.cache_read_input_tokens ?? undefined,
    cacheWriteTokens: u.cache_creation_input_tokens ?? undefined,
  });
}

/** The API reports 0 (or null) cache counts on every call; only real cache traffic is kept. */
function withoutEmptyCache(usage: Usage): Usage {
  const { cacheReadTokens, cacheWriteTokens, ...plain } = usage;
  return {
    ...plain,
    ...(typeof cacheReadTokens === 'number' && cacheReadTokens > 0 ? { cacheReadTokens } : {}),
    ...(typeof cacheWriteTokens === 'number' && cacheWriteTokens > 0 ? { cacheWriteTokens } : {}),
  };
}

function finishReason(reason: Anthropic.StopReason | null | undefined): FinishReason {
  return (typeof reason === 'string' && FINISH.get(reason)) || 'other';
}

/**
 * The SDK logs warnings and, on a broken stream, the raw offending data.
 * Only its first argument (its own message, bounded) reaches our logger:
 * the rest can hold hostile model output or request details.
 */
function sdkLogger(logger: PluginLogger): NonNullable<ConstructorParameters<typeof Anthropic>[0]>['logger'] {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) =>
    logger[level]({ source: '@anthropic-ai/sdk' }, String(message).slice(0, 200));
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

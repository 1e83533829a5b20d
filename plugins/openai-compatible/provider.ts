/**
 * Chat completions over plain HTTP (Node's fetch, SSE through
 * eventsource-parser), for any server speaking OpenAI's dialect: OpenAI,
 * Ollama, vLLM, OpenRouter. No retries here: the router owns them.
 */
import {
  estimateTokens,
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
import type { Clock } from '../../src/resilience/clock.ts';
import { StepDeadline } from '../../src/llm/provider-spec/step-deadline.ts';
import { errorInfo, kindForStatus, kindForStreamError, readErrorBody, toProviderError } from './errors.ts';
import { clipServerText, parseRetryAfter } from '../../src/llm/provider-spec/http-failure.ts';
import { readText, sseMessages } from './http-body.ts';
import type { OpenAICompatibleSettings } from './settings.ts';

interface OpenAICompatibleProviderDeps {
  settings: OpenAICompatibleSettings;
  /** The operator's key, read when needed; may be absent (Ollama, vLLM). */
  operatorKey: () => string | undefined;
  clock: Clock;
}

/** A whole answer or error body; far above any real completion, far below trouble. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_STREAM_BYTES = 32 * 1024 * 1024;
const MAX_EVENT_CHARS = 1024 * 1024;

/** A Map, not an object: `finish_reason` comes from the server and could name a prototype property. */
const FINISH = new Map<string, FinishReason>([
  ['stop', 'stop'],
  ['length', 'length'],
  ['content_filter', 'content_filter'],
]);

interface ReportedUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
}

interface ChatCompletion {
  model?: unknown;
  choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>;
  usage?: ReportedUsage;
}

interface ChatChunk {
  model?: unknown;
  error?: unknown;
  choices?: Array<{ delta?: { content?: unknown }; finish_reason?: unknown }>;
  usage?: ReportedUsage | null;
}

export class OpenAICompatibleProvider implements PluginProvider {
  readonly specificationVersion = PROVIDER_SPECIFICATION_VERSION;
  readonly name: string;
  readonly models: readonly ModelInfo[];
  readonly requiresKey: boolean;
  readonly #deps: OpenAICompatibleProviderDeps;

  constructor(deps: OpenAICompatibleProviderDeps) {
    this.#deps = deps;
    this.name = deps.settings.name;
    // OpenAI bills cached input at half the input price unless the model declares its own cached price.
    this.models = deps.settings.models.map((m) =>
      m.inputPricePerMTok > 0 && m.cacheReadPricePerMTok === undefined ? { ...m, cacheReadPricePerMTok: m.inputPricePerMTok * 0.5 } : m,
    );
    this.requiresKey = deps.settings.requireKey;
  }

  async generate(request: GenerateRequest): Promise<GenerateResponse> {
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs, request.signal);
    const step = <T>(work: Promise<T>) => deadline.watch(work);
    try {
      const res = await this.#post(request, false, deadline);
      const text = await readText(res.body, step, MAX_BODY_BYTES);
      return this.#toResponse(JSON.parse(text) as ChatCompletion, request);
    } catch (err) {
      throw this.#fail(err, request.model, deadline);
    } finally {
      deadline.dispose();
    }
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs, request.signal);
    const step = <T>(work: Promise<T>) => deadline.watch(work);
    try {
      const res = await this.#post(request, true, deadline);
      let model = request.model;
      let usage: Usage | undefined;
      let finish: unknown;
      let done = false;
      let text = '';
      for await (const message of sseMessages(res.body, step, { maxBytes: MAX_STREAM_BYTES, maxEventChars: MAX_EVENT_CHARS })) {
        if (message.data.trim() === '[DONE]') {
          done = true;
          break;
        }
        const chunk = JSON.parse(message.data) as ChatChunk;
        if (typeof chunk.error === 'object' && chunk.error !== null) {
          const info = errorInfo(chunk.error as Record<string, unknown>);
          throw this.#error(kindForStreamError(info), `stream error: ${info.message}`, request.model);
        }
        if (typeof chunk.model === 'string' && chunk.model) model = chunk.model;
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content;
        if (typeof delta === 'string' && delta) {
          text += delta;
          yield { type: 'text', delta };
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        usage = readUsage(chunk.usage) ?? usage;
      }
      if (deadline.callerAborted || deadline.timedOut) throw new Error('stream ended by abort');
      // Servers that omit `[DONE]` still say how the answer finished; silence on both means a cut.
      if (!done && !finish) throw this.#error('invalid_response', 'stream ended before [DONE]', request.model);
      yield {
        type: 'finish',
        finishReason: finishReason(finish),
        usage: usage ?? estimatedUsage(request, text),
        provider: this.name,
        model,
      };
    } catch (err) {
      throw this.#fail(err, request.model, deadline);
    } finally {
      deadline.dispose();
    }
  }

  /** Lists models (free); never asks for a completion. */
  async health(): Promise<ProviderHealth> {
    const key = this.#deps.operatorKey();
    if (!key && this.requiresKey) return { ok: false, detail: 'no key' };
    const deadline = new StepDeadline(this.#deps.settings.timeoutMs);
    const step = <T>(work: Promise<T>) => deadline.watch(work);
    try {
      const res = await step(
        fetch(`${this.#deps.settings.baseUrl}/models`, { headers: this.#headers(key, false), signal: deadline.signal }),
      );
      if (!res.ok) throw await this.#httpError(res, undefined, step);
      const body = JSON.parse(await readText(res.body, step, MAX_BODY_BYTES)) as { data?: unknown };
      if (!Array.isArray(body?.data)) return { ok: false, detail: 'invalid_response: /models answered without a list' };
      return { ok: true };
    } catch (err) {
      const failure = this.#fail(err, undefined, deadline);
      return { ok: false, detail: `${failure.kind}: ${failure.message}` };
    } finally {
      deadline.dispose();
    }
  }

  async #post(request: GenerateRequest, stream: boolean, deadline: StepDeadline): Promise<Response> {
    const key = request.apiKey ?? this.#deps.operatorKey();
    if (!key && this.requiresKey) {
      throw this.#error('auth', 'no API key (set OPENAI_API_KEY or a guild key)', request.model);
    }
    if (request.turns.length === 0) throw this.#error('bad_request', 'a request needs at least one turn', request.model);
    const step = <T>(work: Promise<T>) => deadline.watch(work);
    const res = await step(
      fetch(`${this.#deps.settings.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: this.#headers(key, stream),
        body: JSON.stringify(this.#body(request, stream)),
        signal: deadline.signal,
      }),
    );
    if (!res.ok) throw await this.#httpError(res, request.model, step);
    return res;
  }

  #headers(key: string | undefined, stream: boolean): Record<string, string> {
    return {
      ...this.#deps.settings.headers,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    };
  }

  #body(request: GenerateRequest, stream: boolean): Record<string, unknown> {
    return {
      model: request.model,
      messages: [
        ...(request.system ? [{ role: 'system', content: request.system }] : []),
        ...request.turns.map((t) => ({ role: t.role, content: t.content })),
      ],
      [this.#deps.settings.maxTokensField]: request.maxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  }

  async #httpError(res: Response, model: string | undefined, step: <T>(w: Promise<T>) => Promise<T>): Promise<ProviderError> {
    const text = await readText(res.body, step, MAX_BODY_BYTES).catch(() => '');
    const info = readErrorBody(text);
    const kind = kindForStatus(res.status, info);
    const retryAfterMs = parseRetryAfter(res.headers, this.#deps.clock.now());
    // Some servers quote part of a rejected key back; an auth failure says only that it happened.
    const message = kind === 'auth' ? `API key rejected (${res.status})` : `${res.status} ${info.message}`;
    return new ProviderError(kind, `${this.name}: ${message}`, {
      provider: this.name,
      ...(model !== undefined ? { model } : {}),
      status: res.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  #toResponse(body: ChatCompletion, request: GenerateRequest): GenerateResponse {
    const choice = Array.isArray(body?.choices) ? body.choices[0] : undefined;
    const content = choice?.message?.content;
    if (typeof content !== 'string' && content !== null) {
      throw this.#error('invalid_response', 'answer has no choices[0].message.content', request.model);
    }
    const text = content ?? '';
    return {
      text,
      finishReason: finishReason(choice?.finish_reason),
      usage: readUsage(body.usage) ?? estimatedUsage(request, text),
      provider: this.name,
      model: typeof body.model === 'string' && body.model ? clipServerText(body.model, 100) : request.model,
    };
  }

  #error(kind: ProviderError['kind'], message: string, model: string | undefined): ProviderError {
    return new ProviderError(kind, `${this.name}: ${message}`, {
      provider: this.name,
      ...(model !== undefined ? { model } : {}),
    });
  }

  #fail(err: unknown, model: string | undefined, deadline: StepDeadline): ProviderError {
    return toProviderError(err, {
      provider: this.name,
      ...(model !== undefined ? { model } : {}),
      callerAborted: deadline.callerAborted,
      timedOut: deadline.timedOut,
    });
  }
}

function finishReason(reason: unknown): FinishReason {
  return (typeof reason === 'string' && FINISH.get(reason)) || 'other';
}

/** `prompt_tokens` includes the cached ones; the contract counts them apart, as they are billed apart. */
function readUsage(usage: ChatChunk['usage']): Usage | undefined {
  if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  const reported = usage.prompt_tokens_details?.cached_tokens;
  const cached = typeof reported === 'number' && reported > 0 ? Math.min(reported, usage.prompt_tokens) : 0;
  return {
    inputTokens: usage.prompt_tokens - cached,
    outputTokens: usage.completion_tokens,
    ...(cached > 0 ? { cacheReadTokens: cached } : {}),
  };
}

/** For servers that report no usage: the project's rough estimate beats a zero that hides cost. */
function estimatedUsage(request: GenerateRequest, text: string): Usage {
  const prompt = request.system + request.turns.map((t) => t.content).join('');
  return { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text), estimated: true };
}

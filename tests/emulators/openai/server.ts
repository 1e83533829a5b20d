/**
 * A local OpenAI-style chat completions API for tests (the dialect OpenAI,
 * Ollama, vLLM and OpenRouter share): `POST /v1/chat/completions` (JSON and
 * SSE `data: {chunk}` … `data: [DONE]`, honouring
 * `stream_options.include_usage`), `GET /v1/models`, key checks, recorded
 * requests and the scriptable fault menu of ../llm-faults.ts.
 *
 *   const emu = await start({ keys: null });          // an Ollama needs no key
 *   fetch(`${emu.baseUrl}/chat/completions`, …)       // baseUrl ends in /v1
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { countTokens, admitRequest, decideCompletion, emulatorState, readRecordedBody, retryAfterHeader, sendJson, serveCompletion, splitIntoDeltas, sseFrame, startHttpServer } from '../llm-faults.ts';
import type { Answer, CompletionCall, CompletionPlan, ErrorBehaviour, HttpError, LlmEmulator, LlmEmulatorOptions } from '../llm-faults.ts';

export const DEFAULT_KEYS: Readonly<Record<string, string>> = { default: 'sk-openai-emulator' };
export const DEFAULT_MODELS: readonly string[] = ['gpt-4o-mini', 'gpt-4.1-mini'];

/** Fixed so answers are byte-for-byte deterministic. */
const CREATED = 1_700_000_000;

export type OpenAIEmulatorOptions = LlmEmulatorOptions;

/** `baseUrl` includes `/v1`, as OpenAI-compatible base URLs conventionally do; `completions()` are the `POST /v1/chat/completions` calls. */
export type OpenAIEmulator = LlmEmulator;

export async function start(options: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const { keys, models, faults, requests } = emulatorState(options, DEFAULT_KEYS, DEFAULT_MODELS);
  let counter = 0;
  const seenPrompts: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const { url, auth, record } = admitRequest(req, res, signal, keys, requests);
    const id = `chatcmpl-emu-${++counter}`;
    const read = await readRecordedBody(req, record);
    if (!read.ok) return sendError(res, 400, { message: read.message, type: 'invalid_request_error' });
    const body = read.body;

    if (!auth.ok) {
      return sendError(res, 401, {
        message: auth.present ? 'Incorrect API key provided.' : "You didn't provide an API key.",
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
    }

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((m) => ({ id: m, object: 'model', created: CREATED, owned_by: 'emulator' })),
      });
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      return sendError(res, 404, { message: `Unknown request URL: ${req.method} ${url.pathname}`, type: 'invalid_request_error' });
    }
    const parsed = parseChatRequest(body);
    if (typeof parsed === 'string') return sendError(res, 400, { message: parsed, type: 'invalid_request_error' });
    record.call = parsed;
    if (!models.includes(parsed.model)) {
      return sendError(res, 404, {
        message: `The model \`${parsed.model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      });
    }
    const refused =
      maxTokensRefusal(body, parsed.model, options.maxCompletionTokensOnly ?? []) ??
      temperatureRefusal(body, parsed.model, options.defaultTemperatureOnly ?? []);
    if (refused !== undefined) return sendError(res, 400, refused);

    const decision = decideCompletion(parsed, faults, options, errorFor);
    if (decision.kind === 'refuse') return sendJson(res, decision.error.status, decision.error.body);
    const includeUsage = (body as { stream_options?: { include_usage?: unknown } }).stream_options?.include_usage === true;
    const cached = cachedTokens(seenPrompts, `${auth.label ?? ''}\u0000${parsed.model}\u0000${parsed.system}${parsed.messages.map((m) => m.content).join('')}`, decision.answer.inputTokens);
    await serveCompletion(res, decision.behaviour, plan(parsed, decision.answer, cached, id, includeUsage), signal);
  };

  const server = await startHttpServer(handle);
  return {
    baseUrl: `${server.baseUrl}/v1`,
    faults,
    requests,
    completions: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions'),
    close: server.close,
  };
}

interface ErrorPayload {
  message: string;
  type: string;
  code?: string;
  param?: string;
}

/** OpenAI's refusals of a temperature: outside 0–2, or any but the default for models that take only that. */
function temperatureRefusal(body: unknown, model: string, defaultOnly: readonly string[]): ErrorPayload | undefined {
  const t = (body as { temperature?: unknown }).temperature;
  if (typeof t !== 'number') return undefined;
  const base = { type: 'invalid_request_error', param: 'temperature' };
  if (defaultOnly.includes(model) && t !== 1) {
    const message = `Unsupported value: 'temperature' does not support ${t} with this model. Only the default (1) value is supported.`;
    return { ...base, message, code: 'unsupported_value' };
  }
  if (t > 2) {
    return { ...base, message: `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got ${t} instead.`, code: 'decimal_above_max_value' };
  }
  if (t < 0) {
    return { ...base, message: `Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got ${t} instead.`, code: 'decimal_below_min_value' };
  }
  return undefined;
}

/** The API's words when a reasoning model is sent `max_tokens`. */
function maxTokensRefusal(body: unknown, model: string, completionOnly: readonly string[]): ErrorPayload | undefined {
  if (!completionOnly.includes(model) || (body as { max_tokens?: unknown }).max_tokens === undefined) return undefined;
  return {
    message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    type: 'invalid_request_error',
    param: 'max_tokens',
    code: 'unsupported_parameter',
  };
}

function errorBody(e: ErrorPayload): unknown {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } };
}

function sendError(res: ServerResponse, status: number, e: ErrorPayload): void {
  sendJson(res, status, errorBody(e));
}

const FINISH: Record<Answer['finish'], string> = { stop: 'stop', length: 'length', stop_sequence: 'stop' };

/**
 * OpenAI's automatic prompt caching: prompts of 1,024 tokens or more are
 * cached; a later prompt sharing a prefix with one gets that prefix (in
 * 128-token steps from 1,024) reported as `cached_tokens`, still counted in
 * `prompt_tokens`. Per key and model; no expiry modelled.
 */
function cachedTokens(seen: string[], prompt: string, promptTokens: number): number {
  let longest = 0;
  for (const earlier of seen) {
    let i = 0;
    const end = Math.min(earlier.length, prompt.length);
    while (i < end && earlier.charCodeAt(i) === prompt.charCodeAt(i)) i++;
    if (i > longest) longest = i;
  }
  if (countTokens(prompt) >= 1_024) seen.push(prompt);
  const shared = countTokens(prompt.slice(0, longest));
  if (shared < 1_024) return 0;
  return Math.min(promptTokens, 1_024 + Math.floor((shared - 1_024) / 128) * 128);
}

function plan(call: CompletionCall, answer: Answer, cached: number, id: string, includeUsage: boolean): CompletionPlan {
  const finish = FINISH[answer.finish];
  const usage = {
    prompt_tokens: answer.inputTokens,
    completion_tokens: answer.outputTokens,
    total_tokens: answer.inputTokens + answer.outputTokens,
    prompt_tokens_details: { cached_tokens: cached },
  };
  const chunk = (choices: unknown[], extra: object = {}) =>
    sseFrame({
      id,
      object: 'chat.completion.chunk',
      created: CREATED,
      model: call.model,
      system_fingerprint: null,
      choices,
      // With include_usage every chunk carries `usage: null` except the last.
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  const choice = (delta: object, finishReason: string | null) => ({ index: 0, delta, logprobs: null, finish_reason: finishReason });
  return {
    stream: call.stream,
    json: {
      id,
      object: 'chat.completion',
      created: CREATED,
      model: call.model,
      system_fingerprint: null,
      choices: [{ index: 0, message: { role: 'assistant', content: answer.text, refusal: null }, logprobs: null, finish_reason: finish }],
      usage,
    },
    sse: {
      head: [chunk([choice({ role: 'assistant', content: '' }, null)])],
      deltas: splitIntoDeltas(answer.text).map((text) => chunk([choice({ content: text }, null)])),
      tail: [
        chunk([choice({}, finish)]),
        ...(includeUsage ? [chunk([], { usage })] : []),
        sseFrame('[DONE]'),
      ],
    },
    malformedFrame: `data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"brok\n\n`,
    // OpenRouter's shape: an error object in a 200 stream, its code an HTTP status.
    errorFrame: sseFrame({ id, object: 'chat.completion.chunk', error: { code: 503, message: 'Upstream overloaded' }, choices: [] }),
    errorFor: (b) => errorFor(b, answer.inputTokens),
  };
}

function errorFor(b: ErrorBehaviour, promptTokens: number): HttpError {
  const error = (status: number, e: ErrorPayload, headers?: Record<string, string>): HttpError => ({
    status,
    body: errorBody(e),
    ...(headers ? { headers } : {}),
  });
  switch (b.type) {
    case 'rate_limited':
      return error(
        429,
        { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
        { 'retry-after': String(b.retryAfterSeconds ?? 1) },
      );
    case 'server_error':
      return error(500, { message: 'The server had an error while processing your request.', type: 'server_error' });
    case 'overloaded':
    case 'unavailable':
      return error(503, { message: 'The engine is currently overloaded, please try again later.', type: 'server_error' }, retryAfterHeader(b));
    case 'context_length': {
      const max = b.maxTokens ?? 128_000;
      return error(400, {
        message: `This model's maximum context length is ${max} tokens. However, your messages resulted in ${Math.max(promptTokens, max + 1)} tokens. Please reduce the length of the messages.`,
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      });
    }
    case 'bad_request':
      return error(400, { message: b.message ?? "Invalid 'messages': the last message must be from the user.", type: 'invalid_request_error' });
  }
}

function textOf(content: unknown, where: string): string | Error {
  if (typeof content === 'string') return content;
  if (content === null) return '';
  if (!Array.isArray(content)) return new Error(`${where}: expected a string or an array of content parts`);
  const parts: string[] = [];
  for (const [i, part] of content.entries()) {
    const p = part as { type?: unknown; text?: unknown } | null;
    if (p?.type !== 'text' || typeof p.text !== 'string') return new Error(`${where}[${i}]: only text parts are emulated`);
    parts.push(p.text);
  }
  return parts.join('');
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function parseChatRequest(body: unknown): CompletionCall | string {
  if (typeof body !== 'object' || body === null) return 'We could not parse the JSON body of your request.';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) return "Missing required parameter: 'model'.";
  if (!Array.isArray(b.messages) || b.messages.length === 0) return "Invalid 'messages': empty array.";
  const system: string[] = [];
  const messages: CompletionCall['messages'] = [];
  for (const [i, m] of b.messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (typeof msg?.role !== 'string' || !ROLES.has(msg.role)) return `Invalid value for 'messages[${i}].role'.`;
    const text = textOf(msg.content, `messages[${i}].content`);
    if (text instanceof Error) return text.message;
    if (msg.role === 'system' || msg.role === 'developer') system.push(text);
    else messages.push({ role: msg.role, content: text });
  }
  const max = b.max_completion_tokens ?? b.max_tokens ?? 4096;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) return "Invalid 'max_tokens': expected a positive integer.";
  const rawStop = b.stop ?? [];
  const stop = typeof rawStop === 'string' ? [rawStop] : rawStop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) return "Invalid 'stop'.";
  return { model: b.model, system: system.join('\n'), messages, maxTokens: max, stop, stream: b.stream === true };
}

/**
 * A local Anthropic Messages API for tests: `POST /v1/messages` (JSON and
 * SSE with the full event sequence), `GET /v1/models`, key checks, recorded
 * requests and a scriptable fault menu (see ../llm-faults.ts).
 *
 *   const emu = await start({ keys: { operator: 'sk-op' } });
 *   new Anthropic({ baseURL: emu.baseUrl, apiKey: 'sk-op', maxRetries: 0 });
 *   emu.faults.enqueue({ type: 'rate_limited', retryAfterSeconds: 7 });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admitRequest, countTokens, decideCompletion, emulatorState, readRecordedBody, retryAfterHeader, sendJson, serveCompletion, splitIntoDeltas, sseFrame, startHttpServer } from '../llm-faults.ts';
import type { Answer, CompletionCall, CompletionPlan, ErrorBehaviour, HttpError, LlmEmulator, LlmEmulatorOptions } from '../llm-faults.ts';

export const DEFAULT_KEYS: Readonly<Record<string, string>> = { default: 'sk-ant-emulator' };
export const DEFAULT_MODELS: readonly string[] = ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-5'];

export interface AnthropicEmulatorOptions extends LlmEmulatorOptions {
  /** The shortest prefix the prompt cache stores, in tokens (the API's minimum for Sonnet and Opus is 1,024). */
  minCacheTokens?: number;
}

/** `baseUrl` goes to the SDK as `baseURL` (it appends `/v1/messages`); `completions()` are the `POST /v1/messages` calls. */
export type AnthropicEmulator = LlmEmulator;

export async function start(options: AnthropicEmulatorOptions = {}): Promise<AnthropicEmulator> {
  const { keys, models, faults, requests } = emulatorState(options, DEFAULT_KEYS, DEFAULT_MODELS);
  let counter = 0;
  const cache = new PromptCache(options.minCacheTokens ?? 1_024);

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const { url, auth, record } = admitRequest(req, res, signal, keys, requests);
    const requestId = `req_emu_${++counter}`;
    const read = await readRecordedBody(req, record);
    if (!read.ok) return sendError(res, 400, 'invalid_request_error', read.message, requestId);
    const body = read.body;

    if (!auth.ok) {
      return sendError(res, 401, 'authentication_error', 'invalid x-api-key', requestId);
    }

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      const limit = Math.max(1, Math.min(1000, Number(url.searchParams.get('limit') ?? 20) || 20));
      const data = models.slice(0, limit).map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      }));
      return sendJson(res, 200, {
        data,
        has_more: models.length > limit,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      }, { 'request-id': requestId });
    }

    if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `no route ${req.method} ${url.pathname}`, requestId);
    }
    if (!req.headers['anthropic-version']) {
      return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required', requestId);
    }
    const parsed = parseMessagesRequest(body);
    if (typeof parsed === 'string') return sendError(res, 400, 'invalid_request_error', parsed, requestId);
    record.call = parsed;
    if (!models.includes(parsed.model)) {
      return sendError(res, 404, 'not_found_error', `model: ${parsed.model}`, requestId);
    }
    const refused = temperatureRefusal(body, parsed.model, options.defaultTemperatureOnly ?? []);
    if (refused !== undefined) return sendError(res, 400, 'invalid_request_error', refused, requestId);

    const decision = decideCompletion(parsed, faults, options, errorFor);
    if (decision.kind === 'refuse') return sendJson(res, decision.error.status, decision.error.body, { 'request-id': requestId });
    const cacheUsage = cache.use(`${auth.label ?? ''}\u0000${parsed.model}`, contentBlocks(body), decision.answer.inputTokens);
    await serveCompletion(res, decision.behaviour, plan(parsed, decision.answer, cacheUsage, `msg_emu_${counter}`, requestId), signal);
  };

  const server = await startHttpServer(handle);
  return {
    baseUrl: server.baseUrl,
    faults,
    requests,
    completions: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    close: server.close,
  };
}

function sendError(res: ServerResponse, status: number, type: string, message: string, requestId: string): void {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, { 'request-id': requestId });
}

const STOP_REASON: Record<Answer['finish'], string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
};

function plan(call: CompletionCall, answer: Answer, cached: CacheUsage, id: string, requestId: string): CompletionPlan {
  const stopReason = STOP_REASON[answer.finish];
  const stopSequence = answer.stopSequence ?? null;
  const usage = {
    input_tokens: answer.inputTokens - cached.read - cached.write,
    output_tokens: answer.outputTokens,
    cache_creation_input_tokens: cached.write,
    cache_read_input_tokens: cached.read,
  };
  const message = (content: unknown[], partial: boolean) => ({
    id,
    type: 'message',
    role: 'assistant',
    model: call.model,
    content,
    stop_reason: partial ? null : stopReason,
    stop_sequence: partial ? null : stopSequence,
    usage: partial ? { ...usage, output_tokens: 1 } : usage,
  });
  const event = (type: string, data: object) => sseFrame({ type, ...data }, type);
  return {
    stream: call.stream,
    headers: { 'request-id': requestId },
    json: message([{ type: 'text', text: answer.text }], false),
    sse: {
      head: [
        event('message_start', { message: message([], true) }),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('ping', {}),
      ],
      deltas: splitIntoDeltas(answer.text).map((text) =>
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
      ),
      tail: [
        event('content_block_stop', { index: 0 }),
        // As the API now does, the closing usage repeats the cumulative input and cache counts.
        event('message_delta', {
          delta: { stop_reason: stopReason, stop_sequence: stopSequence },
          usage,
        }),
        event('message_stop', {}),
      ],
    },
    malformedFrame:
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"brok\n\n',
    errorFrame: sseFrame({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'),
    errorFor: (b) => errorFor(b, answer.inputTokens),
  };
}

function errorFor(b: ErrorBehaviour, promptTokens: number): HttpError {
  const error = (status: number, type: string, message: string, headers?: Record<string, string>): HttpError => ({
    status,
    body: { type: 'error', error: { type, message } },
    ...(headers ? { headers } : {}),
  });
  switch (b.type) {
    case 'rate_limited':
      return error(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', {
        'retry-after': String(b.retryAfterSeconds ?? 1),
      });
    case 'server_error':
      return error(500, 'api_error', 'Internal server error');
    case 'overloaded':
      return error(529, 'overloaded_error', 'Overloaded', retryAfterHeader(b));
    case 'unavailable':
      return error(503, 'api_error', 'Service unavailable', retryAfterHeader(b));
    case 'context_length': {
      const max = b.maxTokens ?? 200_000;
      return error(400, 'invalid_request_error', `prompt is too long: ${Math.max(promptTokens, max + 1)} tokens > ${max} maximum`);
    }
    case 'bad_request':
      return error(400, 'invalid_request_error', b.message ?? 'messages: roles must alternate');
  }
}

interface CacheUsage {
  read: number;
  write: number;
}

/** How far back from a breakpoint the API looks for an earlier cached prefix, in content blocks. */
const LOOKBACK_BLOCKS = 20;

interface Block {
  text: string;
  mark: boolean;
}

/**
 * The prompt cache as the API keeps it: each `cache_control` breakpoint
 * names a prefix (system, then messages, up to and including the marked
 * block). A breakpoint reads the longest stored prefix ending at it or at
 * one of the 20 block boundaries before it (so a conversation whose
 * breakpoint moved on still hits what the last call stored); a marked
 * prefix at least the minimum long that is not stored yet is written,
 * beyond what was read. Entries are per key and model. Time-to-live is not
 * modelled: tests run well inside five minutes.
 */
class PromptCache {
  readonly #stored = new Set<string>();
  constructor(readonly minTokens: number) {}

  use(scope: string, blocks: readonly Block[], totalTokens: number): CacheUsage {
    const prefixes: string[] = [];
    let text = '';
    for (const block of blocks) prefixes.push((text += block.text));
    let read = 0;
    let write = 0;
    blocks.forEach((block, at) => {
      if (!block.mark) return;
      for (let back = at; back >= 0 && back > at - LOOKBACK_BLOCKS; back--) {
        if (this.#stored.has(`${scope}\u0000${prefixes[back]!}`)) {
          read = Math.max(read, countTokens(prefixes[back]!));
          break;
        }
      }
    });
    blocks.forEach((block, at) => {
      const tokens = countTokens(prefixes[at]!);
      if (!block.mark || tokens < this.minTokens) return;
      const key = `${scope}\u0000${prefixes[at]!}`;
      if (this.#stored.has(key)) return;
      this.#stored.add(key);
      write = Math.max(write, tokens - read);
    });
    // Never more than the whole prompt: the emulator's count of the parts and of the whole can differ by rounding.
    read = Math.min(read, totalTokens);
    return { read, write: Math.min(write, totalTokens - read) };
  }
}

/** The request's content blocks in cache order (system, then messages), each with whether it carries `cache_control`. */
function contentBlocks(body: unknown): Block[] {
  const b = body as { system?: unknown; messages?: unknown };
  const blocks: Block[] = [];
  const collect = (content: unknown) => {
    if (typeof content === 'string') blocks.push({ text: content, mark: false });
    else if (Array.isArray(content)) {
      for (const block of content as Array<{ text?: unknown; cache_control?: unknown } | null>) {
        blocks.push({ text: typeof block?.text === 'string' ? block.text : '', mark: block?.cache_control != null });
      }
    }
  };
  collect(b.system);
  if (Array.isArray(b.messages)) for (const m of b.messages as Array<{ content?: unknown } | null>) collect(m?.content);
  return blocks;
}

function textOf(content: unknown, where: string): string | Error {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return new Error(`${where}: expected a string or an array of content blocks`);
  const parts: string[] = [];
  for (const [i, block] of content.entries()) {
    const b = block as { type?: unknown; text?: unknown } | null;
    if (b?.type !== 'text' || typeof b.text !== 'string') {
      return new Error(`${where}.${i}: only text blocks are emulated`);
    }
    parts.push(b.text);
  }
  return parts.join('');
}

/** The Messages API's words for a temperature it will not take: outside 0–1, or any at all for a model that takes only its default. */
function temperatureRefusal(body: unknown, model: string, defaultOnly: readonly string[]): string | undefined {
  const t = (body as { temperature?: unknown }).temperature;
  if (t === undefined) return undefined;
  if (typeof t !== 'number') return 'temperature: Input should be a valid number';
  if (defaultOnly.includes(model)) return `temperature: not supported for model ${model}; omit it to use the default`;
  if (t < 0) return 'temperature: Input should be greater than or equal to 0';
  if (t > 1) return 'temperature: Input should be less than or equal to 1';
  return undefined;
}

/** Returns the call, or the error message the real API would give. */
function parseMessagesRequest(body: unknown): CompletionCall | string {
  if (typeof body !== 'object' || body === null) return 'request body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) return 'model: Field required';
  if (typeof b.max_tokens !== 'number' || !Number.isInteger(b.max_tokens) || b.max_tokens < 1) {
    return 'max_tokens: Field required (a positive integer)';
  }
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  const messages: CompletionCall['messages'] = [];
  for (const [i, m] of b.messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (msg?.role !== 'user' && msg?.role !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    const text = textOf(msg.content, `messages.${i}.content`);
    if (text instanceof Error) return text.message;
    messages.push({ role: msg.role, content: text });
  }
  let system = '';
  if (b.system !== undefined) {
    const text = textOf(b.system, 'system');
    if (text instanceof Error) return text.message;
    system = text;
  }
  const stop = b.stop_sequences ?? [];
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
    return 'stop_sequences: Input should be a list of strings';
  }
  return { model: b.model, system, messages, maxTokens: b.max_tokens, stop, stream: b.stream === true };
}

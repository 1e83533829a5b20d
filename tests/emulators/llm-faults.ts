/**
 * Machinery shared by the LLM API emulators (Anthropic Messages, OpenAI chat
 * completions): the fault menu and its script, request recording without key
 * values, deterministic answers, and the HTTP plumbing that plays a planned
 * answer (or a fault) onto a response. Each emulator supplies only its
 * dialect: how bodies, SSE frames and error payloads look.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------
// Behaviours and the script that hands them out

interface Timed {
  /** Wait this long before doing anything (added latency). */
  delayMs?: number;
}

export type Behaviour = Timed &
  (
    | {
        type: 'ok';
        /** Overrides the responder for this call. */
        text?: string;
        /** Pause between streamed deltas (lets a test act mid-stream). */
        deltaDelayMs?: number;
      }
    | { type: 'rate_limited'; retryAfterSeconds?: number }
    | { type: 'server_error' }
    /** Anthropic answers 529 `overloaded_error`; OpenAI-style servers 503. `retryAfterSeconds` adds a Retry-After header. */
    | { type: 'overloaded'; retryAfterSeconds?: number }
    /** 503; `retryAfterSeconds` adds a Retry-After header, as a server in maintenance or a proxy in front of one sends. */
    | { type: 'unavailable'; retryAfterSeconds?: number }
    /** 400 naming the prompt size against `maxTokens` (default 200,000). */
    | { type: 'context_length'; maxTokens?: number }
    | { type: 'bad_request'; message?: string }
    /** Streams: the socket is destroyed after `afterDeltas` deltas (default 2). Non-streaming: mid-body. */
    | { type: 'cut_stream'; afterDeltas?: number }
    /** Streams: a frame with broken JSON after `afterDeltas` deltas (default 2). Non-streaming: garbage JSON. */
    | { type: 'malformed_sse'; afterDeltas?: number }
    /** Streams: an in-band "overloaded" error event after `afterDeltas` deltas (default 2). Non-streaming: `overloaded`. */
    | { type: 'stream_error'; afterDeltas?: number }
    /** 200 with `application/json` that does not parse. */
    | { type: 'garbage_json' }
    /** Never answers (or, with `afterDeltas` on a stream, stalls after that many deltas) until the client goes away. */
    | { type: 'hang'; afterDeltas?: number }
  );

export type ErrorBehaviour = Extract<
  Behaviour,
  { type: 'rate_limited' | 'server_error' | 'overloaded' | 'unavailable' | 'context_length' | 'bad_request' }
>;

const ERROR_TYPES = new Set<Behaviour['type']>([
  'rate_limited',
  'server_error',
  'overloaded',
  'unavailable',
  'context_length',
  'bad_request',
]);

export function isErrorBehaviour(b: Behaviour): b is ErrorBehaviour {
  return ERROR_TYPES.has(b.type);
}

export type BehaviourSource = Behaviour | ((call: CompletionCall) => Behaviour);

/**
 * What the next completion calls do: queued behaviours are consumed one per
 * call, in order; when the queue is empty the default applies (a fixed
 * behaviour or a function of the call, for per-call decisions).
 */
export class FaultScript {
  #queue: Behaviour[] = [];
  #fallback: BehaviourSource = { type: 'ok' };

  enqueue(...behaviours: Behaviour[]): this {
    this.#queue.push(...behaviours);
    return this;
  }

  setDefault(source: BehaviourSource): this {
    this.#fallback = source;
    return this;
  }

  get pending(): number {
    return this.#queue.length;
  }

  next(call: CompletionCall): Behaviour {
    const queued = this.#queue.shift();
    if (queued) return queued;
    return typeof this.#fallback === 'function' ? this.#fallback(call) : this.#fallback;
  }

  reset(): void {
    this.#queue = [];
    this.#fallback = { type: 'ok' };
  }
}

// ---------------------------------------------------------------------------
// Calls, answers and recording

/** A completion request reduced to plain text, in either dialect. */
export interface CompletionCall {
  model: string;
  system: string;
  messages: Array<{ role: string; content: string }>;
  maxTokens: number;
  stop: string[];
  stream: boolean;
}

export type Responder = (call: CompletionCall) => string;

/** Echoes a short digest of the system text's first line and the number of user turns. */
export const defaultResponder: Responder = (call) => {
  const firstLine = (call.system.split('\n', 1)[0] ?? '').trim().slice(0, 60);
  const users = call.messages.filter((m) => m.role === 'user').length;
  return `Echo of "${firstLine}" after ${users} user turn${users === 1 ? '' : 's'}.`;
};

/** Han, kana and Hangul: real tokenizers spend about a token on each of these characters. */
const DENSE_SCRIPT = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/gu;

/** The emulators' tokenizer: a token per CJK character, otherwise about four characters a token. */
export function countTokens(text: string): number {
  const dense = text.match(DENSE_SCRIPT)?.length ?? 0;
  return dense + Math.ceil((text.length - dense) / 4);
}

export function inputTokens(call: CompletionCall): number {
  return countTokens(call.system) + call.messages.reduce((n, m) => n + countTokens(m.content), 0);
}

export interface Answer {
  text: string;
  finish: 'stop' | 'length' | 'stop_sequence';
  stopSequence?: string;
  inputTokens: number;
  outputTokens: number;
}

/** Applies stop sequences and the max-token cap to the responder's text, as a model would. */
export function composeAnswer(call: CompletionCall, fullText: string): Answer {
  let text = fullText;
  let finish: Answer['finish'] = 'stop';
  let stopSequence: string | undefined;
  for (const stop of call.stop) {
    const at = stop ? text.indexOf(stop) : -1;
    if (at >= 0) {
      text = text.slice(0, at);
      finish = 'stop_sequence';
      stopSequence = stop;
    }
  }
  if (countTokens(text) > call.maxTokens) {
    text = text.slice(0, call.maxTokens * 4);
    finish = 'length';
    stopSequence = undefined;
  }
  return {
    text,
    finish,
    ...(stopSequence !== undefined ? { stopSequence } : {}),
    inputTokens: inputTokens(call),
    outputTokens: countTokens(text),
  };
}

/** Splits an answer into word-sized deltas so a stream has several to cut between. */
export function splitIntoDeltas(text: string): string[] {
  const parts: string[] = [...(text.match(/\s*\S+/g) ?? [])];
  const trailing = text.slice(parts.join('').length);
  if (trailing) parts.push(trailing);
  return parts.length > 0 ? parts : [''];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased request headers, minus every credential header. */
  headers: Record<string, string>;
  /** Whether any credential was sent; the value itself is never stored. */
  authPresent: boolean;
  /** The label (from the emulator's `keys`) of the key that matched, if one did. */
  keyLabel?: string;
  /** Parsed JSON body, when there was one. */
  body?: unknown;
  /** Present for completion calls. */
  call?: CompletionCall;
  /** The connection closed before the answer was complete (the client left, or a cut fault). */
  interrupted?: boolean;
}

/** Sets `interrupted` on the record if the connection closes before the answer is finished. */
export function watchInterruption(record: RecordedRequest, res: ServerResponse, signal: AbortSignal): void {
  signal.addEventListener('abort', () => {
    if (!res.writableFinished) record.interrupted = true;
  }, { once: true });
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization']);

export type KeySet = Readonly<Record<string, string>> | null;

export interface AuthResult {
  present: boolean;
  /** null when keys are not required and none matched. */
  label: string | null;
  ok: boolean;
}

/**
 * Checks `Authorization: Bearer` and `x-api-key` against the configured
 * keys (label → key). A null key set means the server needs no key, like a
 * local Ollama.
 */
export function authenticate(req: IncomingMessage, keys: KeySet): AuthResult {
  const offered: string[] = [];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (bearer?.[1]) offered.push(bearer[1].trim());
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) offered.push(apiKey);
  const present = offered.length > 0 || req.headers.authorization !== undefined;
  let label: string | null = null;
  const table: Readonly<Record<string, string>> = keys ?? {};
  for (const [name, value] of Object.entries(table)) {
    if (offered.includes(value)) label = name;
  }
  return { present, label, ok: keys === null || label !== null };
}

export function recordableHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || CREDENTIAL_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * What both emulators do first with every request: authenticate it, record
 * it (credentials removed) and watch for the client hanging up.
 */
export function admitRequest(
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  keys: KeySet,
  requests: RecordedRequest[],
): { url: URL; auth: AuthResult; record: RecordedRequest } {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const auth = authenticate(req, keys);
  const record: RecordedRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    headers: recordableHeaders(req),
    authPresent: auth.present,
    ...(auth.label !== null ? { keyLabel: auth.label } : {}),
  };
  requests.push(record);
  watchInterruption(record, res, signal);
  return { url, auth, record };
}

// ---------------------------------------------------------------------------
// HTTP plumbing

export interface RunningServer {
  baseUrl: string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>;

/** Listens on 127.0.0.1, port 0. A handler failure becomes a 500, never a crash. */
export async function startHttpServer(handler: Handler): Promise<RunningServer> {
  // Closing the server ends pending delays and hangs with it.
  const closing = new AbortController();
  const server = createServer((req, res) => {
    // The request's own signal ends delays and hangs when the client leaves.
    const gone = new AbortController();
    const leave = (): void => gone.abort();
    res.once('close', leave);
    closing.signal.addEventListener('abort', leave, { once: true });
    res.once('close', () => closing.signal.removeEventListener('abort', leave));
    handler(req, res, gone.signal).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `emulator failure: ${String(err)}` } }));
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        // Hung requests and idle keep-alive sockets would hold close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

export class BodyError extends Error {}

export async function readJsonBody(req: IncomingMessage, limitBytes = 10 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new BodyError(`request body exceeds ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError('request body is not valid JSON');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Resolves after `ms`, or early (without error) when the signal aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function waitUntilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Write and wait until the bytes reach the socket, so a cut that follows cannot swallow them. */
function writeFlushed(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(chunk, () => resolve());
  });
}

export interface HttpError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------------------
// What both emulated APIs share

export interface LlmEmulatorOptions {
  /** label → key; null accepts any caller (like Ollama or a bare vLLM). */
  keys?: KeySet;
  responder?: Responder;
  /** Model ids the server knows; others get the dialect's "no such model" 404. */
  models?: readonly string[];
  /** Prompts estimated above this many tokens get the context-length error without scripting. */
  contextWindow?: number;
  /** Models that refuse any `temperature` (newer models take only their default), with the dialect's 400. */
  defaultTemperatureOnly?: readonly string[];
  /** OpenAI dialect: models (o-series, gpt-5) that refuse `max_tokens` and want `max_completion_tokens`, with the API's 400. */
  maxCompletionTokensOnly?: readonly string[];
}

/** The Retry-After header a behaviour asks for, if any. */
export function retryAfterHeader(b: { retryAfterSeconds?: number }): Record<string, string> | undefined {
  return b.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(b.retryAfterSeconds) };
}

export interface LlmEmulator {
  /** Give this to the client as its base URL. */
  baseUrl: string;
  faults: FaultScript;
  /** Every request received, in order, credentials removed. */
  readonly requests: readonly RecordedRequest[];
  /** Only the completion calls. */
  completions(): RecordedRequest[];
  close(): Promise<void>;
}

/** What an emulator keeps for its life: the accepted keys, the known models, the fault script and the recorded requests. */
export function emulatorState(options: LlmEmulatorOptions, defaultKeys: KeySet, defaultModels: readonly string[]) {
  return {
    keys: options.keys === undefined ? defaultKeys : options.keys,
    models: options.models ?? defaultModels,
    faults: new FaultScript(),
    requests: [] as RecordedRequest[],
  };
}

/** Reads a request's JSON body onto its record; a body that is not JSON gives the reason to answer 400 with. */
export async function readRecordedBody(req: IncomingMessage, record: RecordedRequest): Promise<{ ok: true; body: unknown } | { ok: false; message: string }> {
  let body: unknown;
  try {
    body = await readJsonBody(req);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    return { ok: false, message: err.message };
  }
  if (body !== undefined) record.body = body;
  return { ok: true, body };
}

export type CompletionDecision = { kind: 'refuse'; error: HttpError } | { kind: 'serve'; behaviour: Behaviour; answer: Answer };

/**
 * What to do with a parsed completion call, in either dialect: the scripted
 * behaviour; a context-length refusal when nothing is scripted and the
 * prompt is over the window; else the answer the responder (or the
 * script's text) gives.
 */
export function decideCompletion(
  call: CompletionCall,
  faults: FaultScript,
  options: LlmEmulatorOptions,
  errorFor: (b: ErrorBehaviour, promptTokens: number) => HttpError,
): CompletionDecision {
  const behaviour = faults.next(call);
  const tokens = inputTokens(call);
  if (behaviour.type === 'ok' && options.contextWindow !== undefined && tokens > options.contextWindow) {
    return { kind: 'refuse', error: errorFor({ type: 'context_length', maxTokens: options.contextWindow }, tokens) };
  }
  const text = behaviour.type === 'ok' && behaviour.text !== undefined ? behaviour.text : (options.responder ?? defaultResponder)(call);
  return { kind: 'serve', behaviour, answer: composeAnswer(call, text) };
}

/** A planned answer in one dialect, before any fault is applied to it. */
export interface CompletionPlan {
  stream: boolean;
  /** The non-streaming answer. */
  json: unknown;
  /** The streamed answer as whole SSE frames, split so faults can act between deltas. */
  sse: { head: string[]; deltas: string[]; tail: string[] };
  /** A frame whose JSON is broken, for `malformed_sse`. */
  malformedFrame: string;
  /** The dialect's in-band "overloaded" error frame, for `stream_error`. */
  errorFrame: string;
  /** The dialect's payload for an error behaviour. */
  errorFor(b: ErrorBehaviour): HttpError;
  /** Extra headers on every answer (e.g. a request id). */
  headers?: Record<string, string>;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const GARBAGE_JSON = '{"id": "garbage", "content": [ {"type": "text", "text": "unterminated \u0000 ';

/** Plays `plan` onto `res` under `behaviour`. Never throws once the client has gone. */
export async function serveCompletion(
  res: ServerResponse,
  behaviour: Behaviour,
  plan: CompletionPlan,
  signal: AbortSignal,
): Promise<void> {
  await pause(behaviour.delayMs ?? 0, signal);
  if (signal.aborted) return;
  const extra = plan.headers ?? {};

  if (isErrorBehaviour(behaviour)) {
    const err = plan.errorFor(behaviour);
    sendJson(res, err.status, err.body, { ...extra, ...err.headers });
    return;
  }

  switch (behaviour.type) {
    case 'garbage_json':
      res.writeHead(200, { 'content-type': 'application/json', ...extra });
      res.end(GARBAGE_JSON);
      return;
    case 'hang':
      if (plan.stream && behaviour.afterDeltas !== undefined) {
        res.writeHead(200, { ...SSE_HEADERS, ...extra });
        for (const frame of [...plan.sse.head, ...plan.sse.deltas.slice(0, behaviour.afterDeltas)]) {
          await writeFlushed(res, frame);
        }
      }
      await waitUntilAborted(signal);
      res.destroy();
      return;
    case 'cut_stream':
      if (!plan.stream) {
        const text = JSON.stringify(plan.json);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...extra });
        await writeFlushed(res, text.slice(0, Math.floor(text.length / 2)));
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { ...SSE_HEADERS, ...extra });
      for (const frame of [...plan.sse.head, ...plan.sse.deltas.slice(0, behaviour.afterDeltas ?? 2)]) {
        await writeFlushed(res, frame);
      }
      res.socket?.destroy();
      return;
    case 'malformed_sse':
      if (!plan.stream) {
        res.writeHead(200, { 'content-type': 'application/json', ...extra });
        res.end(GARBAGE_JSON);
        return;
      }
      res.writeHead(200, { ...SSE_HEADERS, ...extra });
      for (const frame of [...plan.sse.head, ...plan.sse.deltas.slice(0, behaviour.afterDeltas ?? 2)]) {
        await writeFlushed(res, frame);
      }
      res.end(plan.malformedFrame);
      return;
    case 'stream_error': {
      if (!plan.stream) {
        const err = plan.errorFor({ type: 'overloaded' });
        sendJson(res, err.status, err.body, { ...extra, ...err.headers });
        return;
      }
      res.writeHead(200, { ...SSE_HEADERS, ...extra });
      for (const frame of [...plan.sse.head, ...plan.sse.deltas.slice(0, behaviour.afterDeltas ?? 2)]) {
        await writeFlushed(res, frame);
      }
      res.end(plan.errorFrame);
      return;
    }
    case 'ok': {
      if (!plan.stream) {
        sendJson(res, 200, plan.json, extra);
        return;
      }
      res.writeHead(200, { ...SSE_HEADERS, ...extra });
      for (const frame of plan.sse.head) await writeFlushed(res, frame);
      for (const frame of plan.sse.deltas) {
        if (signal.aborted) return;
        await writeFlushed(res, frame);
        await pause(behaviour.deltaDelayMs ?? 0, signal);
      }
      if (signal.aborted) return;
      res.end(plan.sse.tail.join(''));
      return;
    }
  }
}

/** One SSE frame; `event` is omitted for data-only dialects such as OpenAI's. */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}

/**
 * Failure classification for OpenAI-style servers. Their error bodies differ
 * (OpenAI and Ollama nest `{ error: { message, code } }`, vLLM puts
 * `message` at the top, OpenRouter uses numeric codes and may send an error
 * object inside a 200 stream), so the body is read loosely and the HTTP
 * status decides first.
 */
import { ProviderError, type ProviderErrorKind } from '../../src/llm/provider-spec/contract.ts';
import { messageOf } from '../../src/log/error-message.ts';

/** OpenAI, vLLM, Ollama and OpenRouter phrasings of "the prompt does not fit". */
const CONTEXT_MESSAGE =
  /maximum context length|context (length|window|limit)|prompt is too long|too many (input )?tokens|exceeds? (the )?(model'?s? )?context/i;

const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

interface ErrorInfo {
  message: string;
  code?: string | number;
}

/** Pulls a message and code out of any of the known error shapes; falls back to the raw text. */
export function readErrorBody(text: string): ErrorInfo {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: clip(text) || '(empty body)' };
  }
  const top = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const inner = top.error;
  if (typeof inner === 'string') return { message: clip(inner) };
  return errorInfo(typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : top);
}

export function errorInfo(obj: Record<string, unknown>): ErrorInfo {
  const message = typeof obj.message === 'string' ? clip(obj.message) : '(no message)';
  const code = typeof obj.code === 'string' || typeof obj.code === 'number' ? obj.code : undefined;
  return { message, ...(code !== undefined ? { code } : {}) };
}

export function kindForStatus(status: number, info: ErrorInfo): ProviderErrorKind {
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413 || isContextError(info)) return 'context_length';
  return 'bad_request';
}

/** An error object inside a 200 stream: a numeric code is an HTTP status, else the text decides. */
export function kindForStreamError(info: ErrorInfo): ProviderErrorKind {
  if (typeof info.code === 'number' && info.code >= 400) return kindForStatus(info.code, info);
  if (info.code === 'rate_limit_exceeded') return 'rate_limited';
  return isContextError(info) ? 'context_length' : 'server';
}

function isContextError(info: ErrorInfo): boolean {
  return info.code === 'context_length_exceeded' || CONTEXT_MESSAGE.test(info.message);
}

/** `retry-after-ms` (milliseconds), else `retry-after` in seconds or as an HTTP date. */
export function retryAfter(headers: Headers, now: number): number | undefined {
  const clamp = (ms: number) => Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return clamp(ms);
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return clamp(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : clamp(date - now);
}

interface FailureContext {
  provider: string;
  model?: string;
  callerAborted: boolean;
  timedOut: boolean;
}

/** For errors thrown while talking (fetch, body reads, parsing); HTTP statuses are classified where they arrive. */
export function toProviderError(err: unknown, at: FailureContext): ProviderError {
  if (err instanceof ProviderError) return err;
  const details = { provider: at.provider, ...(at.model !== undefined ? { model: at.model } : {}), cause: err };
  if (at.callerAborted) return new ProviderError('aborted', `${at.provider}: request aborted by the caller`, details);
  if (at.timedOut) return new ProviderError('timeout', `${at.provider}: no answer in time`, details);
  if (err instanceof Error && err.name === 'AbortError') return new ProviderError('aborted', `${at.provider}: request aborted`, details);
  if (err instanceof SyntaxError) {
    return new ProviderError('invalid_response', `${at.provider}: unparseable answer (${clip(err.message)})`, details);
  }
  if (err instanceof TypeError) {
    // undici: "fetch failed" when the connection never opens, "terminated" when it drops mid-body.
    return new ProviderError('network', `${at.provider}: connection failed (${causeText(err)})`, details);
  }
  const text = messageOf(err);
  return new ProviderError('invalid_response', `${at.provider}: unexpected failure (${clip(text)})`, details);
}

function causeText(err: Error): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return clip(typeof cause?.message === 'string' ? cause.message : err.message);
}

/** Server text is untrusted: one line, bounded. */
export function clip(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

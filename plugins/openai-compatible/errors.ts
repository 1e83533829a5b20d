/**
 * Failure classification for OpenAI-style servers. Their error bodies differ
 * (OpenAI and Ollama nest `{ error: { message, code } }`, vLLM puts
 * `message` at the top, OpenRouter uses numeric codes and may send an error
 * object inside a 200 stream), so the body is read loosely and the HTTP
 * status decides first.
 */
import { ProviderError, type ProviderErrorKind } from '../../src/llm/provider-spec/contract.ts';
import { messageOf } from '../../src/log/error-message.ts';
import { clipServerText, connectionCause, kindForHttpStatus, refusalKind } from '../../src/llm/provider-spec/http-failure.ts';

/** OpenAI, vLLM, Ollama and OpenRouter phrasings of "the prompt does not fit". */
const CONTEXT_MESSAGE =
  /maximum context length|context (length|window|limit)|prompt is too long|too many (input )?tokens|exceeds? (the )?(model'?s? )?context/i;

interface ErrorInfo {
  message: string;
  code?: string | number;
  /** The request field the server objects to, when it says. */
  param?: string;
}

/** Pulls a message and code out of any of the known error shapes; falls back to the raw text. */
export function readErrorBody(text: string): ErrorInfo {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: clipServerText(text) || '(empty body)' };
  }
  const top = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const inner = top.error;
  if (typeof inner === 'string') return { message: clipServerText(inner) };
  return errorInfo(typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : top);
}

export function errorInfo(obj: Record<string, unknown>): ErrorInfo {
  const message = typeof obj.message === 'string' ? clipServerText(obj.message) : '(no message)';
  const code = typeof obj.code === 'string' || typeof obj.code === 'number' ? obj.code : undefined;
  const param = typeof obj.param === 'string' ? clipServerText(obj.param, 60) : undefined;
  return { message, ...(code !== undefined ? { code } : {}), ...(param !== undefined ? { param } : {}) };
}

export function kindForStatus(status: number, info: ErrorInfo): ProviderErrorKind {
  return kindForHttpStatus(status, isContextError(info), info);
}

/** An error object inside a 200 stream: a numeric code is an HTTP status, else the text decides. */
export function kindForStreamError(info: ErrorInfo): ProviderErrorKind {
  if (typeof info.code === 'number' && info.code >= 400) return kindForStatus(info.code, info);
  if (info.code === 'rate_limit_exceeded') return 'rate_limited';
  if (isContextError(info)) return 'context_length';
  return refusalKind(info) ?? 'server';
}

function isContextError(info: ErrorInfo): boolean {
  return info.code === 'context_length_exceeded' || CONTEXT_MESSAGE.test(info.message);
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
    return new ProviderError('invalid_response', `${at.provider}: unparseable answer (${clipServerText(err.message)})`, details);
  }
  if (err instanceof TypeError) {
    // undici: "fetch failed" when the connection never opens, "terminated" when it drops mid-body.
    return new ProviderError('network', `${at.provider}: connection failed (${connectionCause(err)})`, details);
  }
  const text = messageOf(err);
  return new ProviderError('invalid_response', `${at.provider}: unexpected failure (${clipServerText(text)})`, details);
}

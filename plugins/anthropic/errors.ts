/**
 * Turns whatever @anthropic-ai/sdk (or the network under it) throws into a
 * ProviderError whose kind tells the router what to do next. Messages carry
 * the status and a trimmed API message, never a key.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { ProviderError, type ProviderErrorKind } from '../../src/llm/provider-spec/contract.ts';
import { messageOf } from '../../src/log/error-message.ts';

interface FailureContext {
  provider: string;
  model?: string;
  /** The caller's own signal fired: whatever the SDK reports, the caller gave up. */
  callerAborted: boolean;
  /** Our step deadline fired. */
  timedOut: boolean;
  now: number;
}

/** Covers "prompt is too long: N tokens > M maximum" and "input length and `max_tokens` exceed context limit". */
const CONTEXT_MESSAGE = /prompt is too long|exceeds? (the )?context|context (window|length|limit)|too many (input )?tokens/i;

/** Longest wait we pass on; a hostile header must not become an absurd timer. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export function toProviderError(err: unknown, at: FailureContext): ProviderError {
  if (err instanceof ProviderError) return err;
  const make = (kind: ProviderErrorKind, message: string, extra: { status?: number; retryAfterMs?: number } = {}) =>
    new ProviderError(kind, `${at.provider}: ${message}`, {
      provider: at.provider,
      ...(at.model !== undefined ? { model: at.model } : {}),
      ...extra,
      cause: err,
    });

  if (at.callerAborted) return make('aborted', 'request aborted by the caller');
  if (at.timedOut) return make('timeout', 'no answer in time');
  if (err instanceof APIUserAbortError) return make('aborted', 'request aborted');
  if (err instanceof APIConnectionTimeoutError) return make('timeout', 'request timed out');
  if (err instanceof APIConnectionError) return make('network', `connection failed (${causeText(err)})`);
  if (err instanceof APIError) {
    const apiMessage = clip(err.apiMessage ?? err.message);
    if (err.status === undefined) {
      // An `event: error` frame inside a 200 stream: only the error type says what happened.
      return make(kindForStreamError(err.type, apiMessage), `stream error ${err.type ?? 'unknown'}: ${apiMessage}`);
    }
    const status = err.status;
    const kind = kindForStatus(status, apiMessage);
    const retryAfterMs = retryAfter(err.headers, at.now);
    const message = kind === 'auth' ? `API key rejected (${status})` : `${status} ${apiMessage}`;
    return make(kind, message, { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (err instanceof SyntaxError) return make('invalid_response', `unparseable answer (${clip(err.message)})`);
  if (err instanceof Error && err.name === 'AbortError') return make('aborted', 'request aborted');
  if (err instanceof TypeError) {
    // undici: "terminated" when the socket closes mid-body, "fetch failed" when it never opens.
    return make('network', `connection lost (${causeText(err)})`);
  }
  return make('invalid_response', `unexpected failure (${clip(messageOf(err))})`);
}

function kindForStatus(status: number, message: string): ProviderErrorKind {
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413) return 'context_length';
  if (CONTEXT_MESSAGE.test(message)) return 'context_length';
  return 'bad_request';
}

function kindForStreamError(type: string | null, message: string): ProviderErrorKind {
  switch (type) {
    case 'overloaded_error':
      return 'overloaded';
    case 'rate_limit_error':
      return 'rate_limited';
    case 'authentication_error':
    case 'permission_error':
      return 'auth';
    case 'timeout_error':
      return 'timeout';
    case 'invalid_request_error':
      return CONTEXT_MESSAGE.test(message) ? 'context_length' : 'bad_request';
    default:
      return 'server';
  }
}

/** `retry-after-ms` (milliseconds), else `retry-after` in seconds or as an HTTP date. */
function retryAfter(headers: Headers | undefined, now: number): number | undefined {
  const clamp = (ms: number) => Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return clamp(ms);
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return clamp(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : clamp(date - now);
}

function causeText(err: Error): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return clip(code ?? (typeof cause?.message === 'string' ? cause.message : err.message));
}

/** API text is untrusted: one line, bounded. */
function clip(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

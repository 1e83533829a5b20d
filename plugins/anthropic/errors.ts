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
import { clipServerText, connectionCause, kindForHttpStatus, parseRetryAfter, refusalKind } from '../../src/llm/provider-spec/http-failure.ts';

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
  if (err instanceof APIConnectionError) return make('network', `connection failed (${connectionCause(err)})`);
  if (err instanceof APIError) {
    const apiMessage = clipServerText(err.apiMessage ?? err.message);
    if (err.status === undefined) {
      // An `event: error` frame inside a 200 stream: only the error type says what happened.
      return make(kindForStreamError(err.type, apiMessage), `stream error ${err.type ?? 'unknown'}: ${apiMessage}`);
    }
    const status = err.status;
    // Anthropic names the failure in the error `type` (`not_found_error` for a retired model).
    const kind = kindForHttpStatus(status, CONTEXT_MESSAGE.test(apiMessage), { message: apiMessage, code: err.type ?? undefined });
    const retryAfterMs = parseRetryAfter(err.headers, at.now);
    const message = kind === 'auth' ? `API key rejected (${status})` : `${status} ${apiMessage}`;
    return make(kind, message, { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (err instanceof SyntaxError) return make('invalid_response', `unparseable answer (${clipServerText(err.message)})`);
  if (err instanceof Error && err.name === 'AbortError') return make('aborted', 'request aborted');
  if (err instanceof TypeError) {
    // undici: "terminated" when the socket closes mid-body, "fetch failed" when it never opens.
    return make('network', `connection lost (${connectionCause(err)})`);
  }
  return make('invalid_response', `unexpected failure (${clipServerText(messageOf(err))})`);
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
    case 'not_found_error':
      return 'model_unavailable';
    case 'invalid_request_error':
      return CONTEXT_MESSAGE.test(message) ? 'context_length' : (refusalKind({ message }) ?? 'bad_request');
    default:
      return 'server';
  }
}

/**
 * What an HTTP answer from a model API means for the router, in the terms of
 * the provider contract: the `ProviderErrorKind` of a status, how long a
 * `Retry-After` asks to wait, and how much of the server's text may travel
 * in a message. Provider plugins that speak HTTP classify through these, so
 * every backend reports the same failure the same way.
 */
import type { ProviderErrorKind } from './contract.ts';

/** Longest wait passed on; a hostile header must not become an absurd timer. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** What the server said about a refusal, as far as its body could be read. */
export interface ServerRefusal {
  message: string;
  /** OpenAI's `code`, Anthropic's error `type`. */
  code?: string | number | undefined;
  /** OpenAI's `param`: the field the server objects to. */
  param?: string | null | undefined;
}

/** Codes meaning "this model is not (or no longer) served here". */
const MODEL_GONE_CODES = new Set(['model_not_found', 'not_found_error', 'model_not_available', 'model_deprecated']);
/** Codes meaning "this parameter or its value is not accepted here". */
const PARAMETER_CODES = new Set(['unsupported_parameter', 'unsupported_value']);
/** "model: x is not supported", "The model `x` has been deprecated", "model x does not exist". */
const MODEL_GONE_MESSAGE =
  /\bmodel\b[^.]{0,120}?\b(not found|does not exist|not supported|unsupported|is not available|no longer available|deprecated|retired|decommissioned)/i;
/** Sampling parameters a provider may refuse, named the way the APIs name them in messages. */
const PARAMETER_MESSAGE =
  /\b(temperature|top_p|top_k|frequency_penalty|presence_penalty|seed|logprobs|stop_sequences)\b|unsupported parameter|unsupported value/i;

/**
 * The kind of a failed HTTP answer. `contextMessage` says whether the
 * server's own words (or code) describe a prompt that does not fit: how a
 * backend phrases that is its own affair. `refusal` lets a 4xx be told
 * apart: a model that is gone or a parameter this provider refuses is worth
 * another target, other bad requests are not.
 */
export function kindForHttpStatus(status: number, contextMessage: boolean, refusal?: ServerRefusal): ProviderErrorKind {
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413 || contextMessage) return 'context_length';
  if (status === 404) return 'model_unavailable';
  if (refusal !== undefined) return refusalKind(refusal) ?? 'bad_request';
  return 'bad_request';
}

/** A 4xx body that says the model is gone or a parameter is refused; undefined for any other refusal. */
export function refusalKind(refusal: ServerRefusal): 'model_unavailable' | 'unsupported_parameter' | undefined {
  const code = typeof refusal.code === 'string' ? refusal.code : undefined;
  if (code !== undefined && MODEL_GONE_CODES.has(code)) return 'model_unavailable';
  if (code !== undefined && PARAMETER_CODES.has(code)) return 'unsupported_parameter';
  if (refusal.param === 'model' || MODEL_GONE_MESSAGE.test(refusal.message)) return 'model_unavailable';
  if ((typeof refusal.param === 'string' && PARAMETER_MESSAGE.test(refusal.param)) || PARAMETER_MESSAGE.test(refusal.message)) {
    return 'unsupported_parameter';
  }
  return undefined;
}

/** `retry-after-ms` (milliseconds), else `retry-after` in seconds or as an HTTP date; bounded. */
export function parseRetryAfter(headers: Pick<Headers, 'get'> | undefined, now: number): number | undefined {
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

/** Server text is untrusted: one line, bounded. */
export function clipServerText(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Why a connection failed, from the network error under a fetch's `TypeError` (`ECONNREFUSED`, "other side closed"). */
export function connectionCause(err: Error): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return clipServerText(cause.code);
  return clipServerText(typeof cause?.message === 'string' ? cause.message : err.message);
}

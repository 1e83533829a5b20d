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

/**
 * The kind of a failed HTTP answer. `contextMessage` says whether the
 * server's own words (or code) describe a prompt that does not fit: how a
 * backend phrases that is its own affair.
 */
export function kindForHttpStatus(status: number, contextMessage: boolean): ProviderErrorKind {
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 413 || contextMessage) return 'context_length';
  return 'bad_request';
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

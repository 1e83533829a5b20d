import type { ProviderError } from '../provider-spec/contract.ts';
import type { AttemptRecord } from './types.ts';

type RouterErrorKind =
  /** Every target's circuit is open: nothing was called. */
  | 'unavailable'
  /** Targets were called and all failed, retries included. */
  | 'exhausted'
  /** The request fits no target's context window. */
  | 'context_too_large'
  /** A provider rejected the request itself; another try cannot help. */
  | 'bad_request'
  /** No target could be called (missing provider, no key, unknown model...). */
  | 'no_targets'
  /** The call's total time ran out. */
  | 'timeout'
  /** The caller gave up. */
  | 'aborted'
  /** A request processor failed; the request is not sent unprocessed. */
  | 'processor_failed'
  /** The task request itself is malformed. */
  | 'invalid_request';

/** A routed call that did not produce an answer. The message is written for the person who has to act on it. */
export class RouterError extends Error {
  override readonly name = 'RouterError';
  constructor(
    readonly kind: RouterErrorKind,
    message: string,
    readonly details: {
      attempts?: readonly AttemptRecord[];
      /** When trying again can help (ms since epoch). */
      retryAt?: number | undefined;
      /** The last provider failure, when there was one. */
      lastError?: ProviderError | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause ?? details.lastError });
  }

  get attempts(): readonly AttemptRecord[] {
    return this.details.attempts ?? [];
  }

  get retryAt(): number | undefined {
    return this.details.retryAt;
  }
}

/** Refused before any provider was called: a budget or a rate limit. */
export class RouterRefusal extends Error {
  override readonly name = 'RouterRefusal';
  constructor(
    readonly kind: 'budget' | 'rate',
    readonly scope: 'guild' | 'user',
    /** When the limit lifts (ms since epoch); null when it will not by itself (a zero budget). */
    readonly resetAt: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** "2024-05-01T12:00:00.000Z (in 42 s)": an absolute time plus how far off it is. */
export function describeWhen(at: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((at - now) / 1000));
  const span =
    seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.ceil(seconds / 60)} min` : `${Math.ceil(seconds / 3600)} h`;
  return `${new Date(at).toISOString()} (in ${span})`;
}

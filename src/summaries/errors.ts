import { RouterError, RouterRefusal } from '../llm/router/errors.ts';
import { messageOf } from '../log/error-message.ts';

type SummarizeErrorKind =
  /** No messages to summarize. */
  | 'empty'
  /** The prompt (or one message) does not fit the model's window. */
  | 'too_large'
  /** A budget or rate limit refused the call before any provider was asked. */
  | 'refused'
  /** No provider could be called (none configured, circuits open, no key). */
  | 'unavailable'
  /** Providers were called and failed. */
  | 'failed'
  /** The caller gave up. */
  | 'aborted';

interface SummarizeErrorDetails {
  /** Map parts finished (and stored) before the failure, reused ones included. */
  chunksDone?: number;
  chunksTotal?: number;
  /** The router's RouterError or RouterRefusal, when there was one. */
  cause?: unknown;
}

/** A summary that could not be produced; the message is written for the member or operator who asked. */
export class SummarizeError extends Error {
  override readonly name = 'SummarizeError';
  constructor(
    readonly kind: SummarizeErrorKind,
    message: string,
    readonly details: SummarizeErrorDetails = {},
  ) {
    super(message, { cause: details.cause });
  }
}

export function kindOf(error: unknown): SummarizeErrorKind {
  if (error instanceof SummarizeError) return error.kind;
  if (error instanceof RouterRefusal) return 'refused';
  if (error instanceof RouterError) {
    switch (error.kind) {
      case 'aborted':
        return 'aborted';
      case 'context_too_large':
        return 'too_large';
      case 'unavailable':
      case 'no_targets':
        return 'unavailable';
      default:
        return 'failed';
    }
  }
  return 'failed';
}

/** A router failure as the engine reports it; `prefix` says how far the work got. */
export function fromRouterFailure(error: unknown, prefix?: string, details: Omit<SummarizeErrorDetails, 'cause'> = {}): SummarizeError {
  if (error instanceof SummarizeError && prefix === undefined) return error;
  const text = messageOf(error);
  return new SummarizeError(kindOf(error), prefix === undefined ? text : `${prefix}: ${text}`, { ...details, cause: error });
}

type ChatErrorKind = 'invalid_question' | Exclude<SummarizeErrorKind, 'empty'>;

/** A chat answer that could not be produced; the message can be shown to the member. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export function chatErrorFrom(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  const kind = kindOf(error);
  return new ChatError(kind === 'empty' ? 'failed' : kind, messageOf(error), { cause: error });
}

/**
 * A failure the member should read as is: short, specific, actionable.
 * Anything else that escapes a handler is a bug and gets a generic message;
 * both carry the correlation id that also appears in the log line.
 */
export class UserFacingError extends Error {
  override readonly name = 'UserFacingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const GENERIC_FAILURE = 'Something went wrong on our side while handling that.';

/**
 * The one error an importer throws for bad input. The message is written for
 * the person who supplied the file: what is wrong, where, and what was
 * expected. The structured fields let callers (CLI, tests) act on it.
 */

type ImportErrorCode =
  /** The bytes are not JSON at all (or not JSON at the reported place). */
  | 'not-json'
  /** The JSON stops before it is complete. */
  | 'truncated'
  /** Valid JSON, but not a DiscordChatExporter export. */
  | 'wrong-format'
  /** A message lacks a required field or has an unreadable one. */
  | 'invalid-message'
  /** More messages than the configured maximum. */
  | 'too-many-messages'
  /** A single value (string, message, nesting) exceeds a safety bound. */
  | 'too-large'
  /** The file could not be read. */
  | 'io';

interface ImportErrorDetails {
  /** File name (or a caller-given label) the error is about. */
  source?: string | undefined;
  /** Byte offset, or the start of the byte range, where the problem was found. */
  byteOffset?: number;
  /** End of the byte range when the exact offset is unknown. */
  byteOffsetEnd?: number;
  /** 0-based index of the message in the export's `messages` array. */
  messageIndex?: number;
  messageId?: string;
  /** The offending field, as a path inside the message or export (e.g. `author.name`). */
  field?: string;
  /** How many messages were read completely before the problem. */
  messagesRead?: number;
}

export class ImportError extends Error {
  override readonly name = 'ImportError';
  readonly code: ImportErrorCode;
  readonly details: ImportErrorDetails;

  constructor(code: ImportErrorCode, message: string, details: ImportErrorDetails = {}, options?: { cause?: unknown }) {
    super(details.source ? `${details.source}: ${message}` : message, options);
    this.code = code;
    this.details = details;
  }
}

/** "1 message", "2 messages": error texts are read by people. */
export function countMessages(n: number): string {
  return `${n} message${n === 1 ? '' : 's'}`;
}

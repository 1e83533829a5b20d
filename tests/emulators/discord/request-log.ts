/** What each REST request looked like, for assertions; secrets never enter the log. */
import type { RecordedFile } from './model.ts';

export interface RecordedRequest {
  /** 1-based order of arrival. */
  seq: number;
  method: string;
  /** Path under `/api/v10`, with interaction and webhook tokens replaced by `:token`. */
  path: string;
  query: Record<string, string>;
  /** Route name, e.g. `POST /channels/:channelId/messages`; null when no route matched. */
  route: string | null;
  status: number;
  /** How the request authenticated: the token itself is never kept. */
  auth: 'bot' | 'invalid' | 'none';
  /** Parsed JSON body (multipart: the `payload_json`), or undefined. */
  body: unknown;
  /** Uploaded files without their bytes (the bytes are on interaction handles and attachments). */
  files: Omit<RecordedFile, 'content'>[];
  /** Error body for non-2xx answers. */
  error?: unknown;
  /** Wall-clock start (ms since epoch) and duration. */
  startedAt: number;
  durationMs: number;
}

/** Replaces token path segments (`/interactions/:id/<token>/…`, `/webhooks/:app/<token>/…`). */
export function redactPath(path: string): string {
  return path
    .replace(/^(\/interactions\/[^/]+\/)[^/]+/, '$1:token')
    .replace(/^(\/webhooks\/[^/]+\/)[^/]+/, '$1:token');
}

export function classifyAuth(header: string | undefined, botToken: string): RecordedRequest['auth'] {
  if (header === undefined) return 'none';
  return header === `Bot ${botToken}` ? 'bot' : 'invalid';
}

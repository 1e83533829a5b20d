/**
 * RFC 9457 problem details: every error the API and the feeds answer. A
 * refusal given before the body was read closes the connection rather than
 * read the body (see http/refuse.ts).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { refuseRequest } from '../http/refuse.ts';

export interface Problem {
  status: number;
  /** A URI naming the kind of problem: `https://recap-bot.dev/problems/<slug>`, documented in the README. */
  type: string;
  title: string;
  detail?: string;
  /** Default: the request's path. Set it where the path holds a credential (a feed's token). */
  instance?: string;
  /** Extension members (`errors` of a validation problem). */
  [extension: string]: unknown;
}

const PROBLEM_BASE = 'https://recap-bot.dev/problems/';

export function problem(status: number, slug: string, detail?: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: `${PROBLEM_BASE}${slug}`, title: STATUS_CODES[status] ?? 'Error', status, ...(detail === undefined ? {} : { detail }), ...extensions };
}

/** Thrown by handlers; the router answers it. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

const CONTENT_TYPE = 'application/problem+json';

/** `bodyUnread`: the request may still be sending a body we will not read. */
export function sendProblem(req: IncomingMessage, res: ServerResponse, p: Problem, headers: Record<string, string> = {}, bodyUnread = false): void {
  if (bodyUnread && hasBody(req)) {
    refuseRequest(req, p.status, { ...p, instance: p['instance'] ?? pathOf(req) }, { headers, contentType: CONTENT_TYPE });
    return;
  }
  const text = JSON.stringify({ ...p, instance: p['instance'] ?? pathOf(req) });
  res.writeHead(p.status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** The path only: a query string could carry anything. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0] ?? '/';
}

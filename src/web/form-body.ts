import type { IncomingMessage } from 'node:http';
import { readBoundedBody } from '../http/bounded-body.ts';
import type { HttpServer } from '../http/server.ts';

/** Dashboard forms are a few short fields: anything larger is refused. */
const FORM_LIMIT_BYTES = 16 * 1024;

/** A url-encoded form body, read against the server's budget for unauthenticated bytes. */
export async function readForm(req: IncomingMessage, bodies: HttpServer['bodies']): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  const body = await readBoundedBody(req, { limit: FORM_LIMIT_BYTES, budget: bodies.budget, timeoutMs: bodies.timeoutMs });
  return new URLSearchParams(body.toString('utf8'));
}

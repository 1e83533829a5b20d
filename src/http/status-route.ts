/**
 * `GET /status`: the router's view of its targets, for the operator. Mounted
 * only when RECAP_STATUS_TOKEN is set (otherwise the path is a plain 404, so
 * a deployment without the token does not advertise it). The request must
 * carry `Authorization: Bearer <token>`; the comparison is on SHA-256 digests
 * in constant time, and nothing of what was sent is echoed or logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Secret } from '../config/secret.ts';
import { sendJson, type HttpServer } from './server.ts';

interface StatusRouteDeps {
  token: Secret | undefined;
  status(): Promise<unknown>;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** True when the request's bearer token is the operator's. */
export function bearerMatches(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const match = /^Bearer ([^\s]{1,512})$/i.exec(header.trim());
  if (match === null) return false;
  return timingSafeEqual(digest(match[1] ?? ''), expected);
}

export function mountStatusRoute(http: HttpServer, deps: StatusRouteDeps): void {
  if (deps.token === undefined) return;
  const expected = digest(deps.token.reveal());
  http.route('GET', '/status', async (req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (!bearerMatches(req, expected)) {
      res.setHeader('www-authenticate', 'Bearer realm="recap-status"');
      sendJson(res, 401, { error: 'unauthorized: send the operator status token as "Authorization: Bearer <token>"' });
      return;
    }
    sendJson(res, 200, await deps.status());
  });
}

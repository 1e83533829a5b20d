/**
 * The `/api/v1` router over the app's HTTP server: matches a route, then
 * authenticates the key before anything else is done (no body is read, no
 * Discord request made), applies the key's rate limit and the route's
 * scope, and answers every failure as problem details.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import type { ApiKeyInfo, ApiKeyStore, ApiScope } from './api-keys.ts';
import { problem, ProblemError, sendProblem } from './problem.ts';
import type { KeyRateLimiter } from './rate-limit.ts';

export interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path's captured segments. */
  params: string[];
  query: URLSearchParams;
  key: ApiKeyInfo;
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** The key needs one of these. */
  scopes: readonly ApiScope[];
  handle(call: ApiCall): Promise<void>;
}

export interface ApiRouterDeps {
  keys: Pick<ApiKeyStore, 'verify' | 'touch'>;
  limiter: KeyRateLimiter;
  logger: Logger;
}

export function sendJsonBody(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const UNAUTHORIZED = { 'www-authenticate': 'Bearer realm="recap-bot"' };

export function createApiRouter(routes: readonly ApiRoute[], deps: ApiRouterDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    const matches = routes.map((route) => ({ route, match: route.pattern.exec(url.pathname) })).filter((m) => m.match !== null);
    if (matches.length === 0) return sendProblem(req, res, problem(404, 'not-found', 'No such API path.'), {}, true);
    const found = matches.find((m) => m.route.method === req.method || (req.method === 'HEAD' && m.route.method === 'GET'));
    if (found === undefined) {
      return sendProblem(req, res, problem(405, 'method-not-allowed', `Allowed: ${matches.map((m) => m.route.method).join(', ')}.`), { allow: matches.map((m) => m.route.method).join(', ') }, true);
    }
    const presented = bearerOf(req.headers.authorization);
    if (presented === undefined) {
      return sendProblem(req, res, problem(401, 'unauthorized', 'Send an API key: Authorization: Bearer rk_…'), UNAUTHORIZED, true);
    }
    const key = await deps.keys.verify(presented);
    // One answer for unknown, wrong, malformed and revoked keys, and the key is never repeated back.
    if (key === undefined) return sendProblem(req, res, problem(401, 'unauthorized', 'The API key is not valid.'), UNAUTHORIZED, true);
    const limited = deps.limiter.take(key.id);
    if (!limited.allowed) {
      return sendProblem(req, res, problem(429, 'rate-limited', `Too many requests with this key; retry in ${limited.retryAfterSeconds} s.`), { 'retry-after': String(limited.retryAfterSeconds) }, true);
    }
    deps.keys.touch(key.id).catch((error: unknown) => deps.logger.warn({ err: error, keyPrefix: key.prefixId }, 'could not record an API key\'s last use'));
    if (!found.route.scopes.some((s) => key.scopes.includes(s))) {
      return sendProblem(req, res, problem(403, 'insufficient-scope', `This key lacks the scope ${found.route.scopes.join(' or ')}.`), {}, true);
    }
    try {
      await found.route.handle({ req, res, params: found.match!.slice(1), query: url.searchParams, key });
    } catch (error) {
      if (error instanceof ProblemError) {
        if (!res.headersSent) sendProblem(req, res, error.problem, error.headers, !req.readableEnded);
        return;
      }
      deps.logger.error({ err: error, path: url.pathname, keyPrefix: key.prefixId }, 'API request failed');
      if (!res.headersSent) sendProblem(req, res, problem(500, 'internal', 'Something went wrong on our side.'), {}, !req.readableEnded);
    }
  };
}

/** The token of `Authorization: Bearer <token>`, bounded; undefined when absent or another scheme. */
function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(header);
  return match?.[1];
}

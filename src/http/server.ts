import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';
import { BodyBudget } from './body-budget.ts';
import { answerAndClose } from './refuse.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  /** Mounts a handler for an exact path. */
  route(method: string, path: string, handler: Handler): void;
  /** Mounts a handler for every path below `prefix` (which ends in `/`); exact routes win. */
  routePrefix(method: string, prefix: string, handler: Handler): void;
  /** `url` names the address actually bound (`http://0.0.0.0:8080` on every IPv4 interface). */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
  readonly server: Server;
  /** What every route that reads an unauthenticated body passes to readBoundedBody (with its own limit). */
  readonly bodies: { budget: BodyBudget; timeoutMs: number };
}

/**
 * What strangers can hold on the port before they authenticate:
 * connections, header bytes and time, body bytes (all requests together)
 * and time.
 */
interface HttpLimits {
  maxConnections: number;
  /** Bytes of unauthenticated bodies in flight across all requests. */
  bodyBudgetBytes: number;
  /** The headers must be whole within this, and then the body within this again. */
  timeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

const defaultHttpLimits: HttpLimits = {
  maxConnections: 512,
  bodyBudgetBytes: 16 * 1024 * 1024,
  timeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
};

/** Bodies up to this size have a share of the budget that larger ones cannot take. */
const SMALL_BODY_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The one HTTP port of a deployment (health, metrics, webhooks). A plain
 * node:http server with an exact-match route table is all these few
 * endpoints need.
 */
export function createHttpServer(logger: Logger, limits: Partial<HttpLimits> = {}): HttpServer {
  const l = { ...defaultHttpLimits, ...limits };
  const bodyBudget = new BodyBudget({
    totalBytes: l.bodyBudgetBytes,
    smallBodyBytes: SMALL_BODY_BYTES,
    smallReserveBytes: Math.floor(l.bodyBudgetBytes / 4),
  });
  const routes = new Map<string, Map<string, Handler>>();
  const options = {
    headersTimeout: l.timeoutMs,
    // A backstop for handlers that never read their body; readBoundedBody has the body's own deadline.
    requestTimeout: 2 * l.timeoutMs + 1_000,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    maxHeaderSize: l.maxHeaderBytes,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1_000, l.timeoutMs),
  };
  const prefixes = new Map<string, Map<string, Handler>>();
  const byPrefix = (path: string): Map<string, Handler> | undefined => {
    for (const [prefix, handlers] of prefixes) if (path.startsWith(prefix) && path.length > prefix.length) return handlers;
    return undefined;
  };
  const server = createServer(options, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const byMethod = routes.get(path) ?? byPrefix(path);
    if (byMethod === undefined) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    const handler = byMethod.get(req.method ?? 'GET') ?? (req.method === 'HEAD' ? byMethod.get('GET') : undefined);
    if (handler === undefined) {
      res.setHeader('allow', [...byMethod.keys()].join(', '));
      sendJson(res, 405, { error: 'method not allowed' });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        logger.error({ err: error, path }, 'HTTP handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  });
  server.maxConnections = l.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const status = clientErrorStatus(error.code);
    // A response already under way on this connection (keep-alive) cannot be followed by an error page.
    const responding = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (status === undefined || responding) socket.destroy();
    else answerAndClose(socket, status, { error: STATUS_CODES[status]?.toLowerCase() ?? 'bad request' });
  });

  return {
    server,
    bodies: { budget: bodyBudget, timeoutMs: l.timeoutMs },
    route(method, path, handler) {
      let byMethod = routes.get(path);
      if (byMethod === undefined) {
        byMethod = new Map();
        routes.set(path, byMethod);
      }
      byMethod.set(method.toUpperCase(), handler);
    },
    routePrefix(method, prefix, handler) {
      let byMethod = prefixes.get(prefix);
      if (byMethod === undefined) {
        byMethod = new Map();
        prefixes.set(prefix, byMethod);
      }
      byMethod.set(method.toUpperCase(), handler);
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          // What the socket is bound to (0.0.0.0 when listening on every interface), not what was asked for.
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ port: address.port, url: `http://${shownHost}:${address.port}` });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

/** The answer to a request Node could not parse or gave up on; undefined: the client is gone, just close. */
function clientErrorStatus(code: string | undefined): number | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    default:
      return 400;
  }
}

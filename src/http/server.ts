import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServer {
  /** Mounts a handler for an exact path; later capabilities add their routes here. */
  route(method: string, path: string, handler: Handler): void;
  /** Mounts a handler for every path below `prefix` (which ends in `/`); exact routes win. */
  routePrefix(method: string, prefix: string, handler: Handler): void;
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
  readonly server: Server;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Reads a request body up to `limit` bytes; rejects past it without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError(`body of ${declared} bytes exceeds the limit of ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`body exceeds the limit of ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The one HTTP port of a deployment (health, metrics, webhooks). A plain
 * node:http server with an exact-match route table is all these few
 * endpoints need.
 */
export function createHttpServer(logger: Logger): HttpServer {
  const routes = new Map<string, Map<string, Handler>>();
  const prefixes = new Map<string, Map<string, Handler>>();
  const byPrefix = (path: string): Map<string, Handler> | undefined => {
    for (const [prefix, handlers] of prefixes) if (path.startsWith(prefix) && path.length > prefix.length) return handlers;
    return undefined;
  };
  const server = createServer((req, res) => {
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
  server.on('clientError', (_error, socket) => {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });

  return {
    server,
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
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
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

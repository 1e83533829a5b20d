import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a refused connection stays open, unread, so the client can read the answer. */
const DEFAULT_LINGER_MS = 2_000;

/**
 * Answers `status` and closes the connection without reading what the client
 * is still sending (a body we refused, or a request we gave up on).
 *
 * The answer is written on the socket, not through the ServerResponse: with
 * `Connection: close` Node destroys the socket as soon as the answer is
 * flushed, and closing a socket that has unread bytes makes the kernel send
 * a reset, which can discard the answer before the client reads it (the
 * client sees ECONNRESET instead of 413). Reading the rest instead would let
 * a stranger make us copy every byte they send. So: stop reading, send the
 * answer and FIN, and destroy the socket after `lingerMs`.
 */
export function refuseRequest(
  req: IncomingMessage,
  status: number,
  body: unknown,
  options: { headers?: Record<string, string>; lingerMs?: number; contentType?: string } = {},
): void {
  req.pause();
  answerAndClose(req.socket, status, body, options);
}

/** The same for a socket with no request object (a parse error or a timeout before the request was whole). */
export function answerAndClose(
  socket: Socket,
  status: number,
  body: unknown,
  options: { headers?: Record<string, string>; lingerMs?: number; contentType?: string } = {},
): void {
  if (socket.destroyed) return;
  socket.pause();
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `content-type: ${options.contentType ?? 'application/json; charset=utf-8'}`,
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  const timer = setTimeout(() => socket.destroy(), options.lingerMs ?? DEFAULT_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

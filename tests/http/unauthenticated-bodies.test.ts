/**
 * What a stranger can hold on the HTTP port before authenticating: the real
 * app over real sockets, sending the hostile bytes.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import { BodyBudget } from '../../src/http/body-budget.ts';
import { createHttpServer, sendJson } from '../../src/http/server.ts';
import { createPgliteDatabase, silentLogger } from '../helpers/databases.ts';
import { pingPayload, postWebhook, WEBHOOK_SECRET } from '../webhooks/helpers.ts';

const KiB = 1024;
const config = loadConfig({
  HTTP_PORT: '0',
  HTTP_HOST: '127.0.0.1',
  DATABASE_MIGRATE_ON_START: 'false',
  GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
  GITHUB_WEBHOOK_MAX_BODY_KB: '128',
  // Large bodies may use 192 KiB of it; the last 64 KiB is kept for small ones.
  HTTP_BODY_BUDGET_KB: '256',
  HTTP_TIMEOUT_MS: '1500',
});

/** A raw HTTP exchange: what the server answered (status line, headers, body) and whether it closed the connection. */
interface RawPeer {
  socket: Socket;
  answer: Promise<{ status: number; headers: Record<string, string>; body: string }>;
  closed: Promise<'closed'>;
  /** Whether the connection was reset before an answer arrived. */
  resetBeforeAnswer(): boolean;
}

function rawRequest(port: number, head: string, body: Buffer | string = ''): RawPeer {
  const socket = connect({ port, host: '127.0.0.1' });
  let received = '';
  let answered = false;
  let reset = false;
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (!answered && error.code === 'ECONNRESET') reset = true;
  });
  socket.on('connect', () => {
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
  const answer = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
    const tryParse = (final: boolean) => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (final) reject(new Error(`connection closed without an answer (${JSON.stringify(received)})`));
        return;
      }
      const [statusLine, ...headerLines] = received.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      const length = Number(headers['content-length'] ?? 0);
      const rest = received.slice(end + 4);
      if (rest.length < length && !final) return;
      answered = true;
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: rest.slice(0, length) });
    };
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (!answered) tryParse(false);
    });
    socket.on('close', () => {
      if (!answered) tryParse(true);
    });
  });
  answer.catch(() => undefined);
  const closed = new Promise<'closed'>((resolve) => socket.on('close', () => resolve('closed')));
  return { socket, answer, closed, resetBeforeAnswer: () => reset };
}

const webhookHead = (port: number, contentLength: number | 'chunked') =>
  'POST /webhooks/github HTTP/1.1\r\n' +
  `Host: 127.0.0.1:${port}\r\n` +
  'Content-Type: application/json\r\n' +
  'X-GitHub-Event: push\r\n' +
  'X-GitHub-Delivery: 0f0e0d0c-stranger\r\n' +
  `X-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\n` +
  (contentLength === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${contentLength}\r\n`) +
  '\r\n';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('unauthenticated request bodies on the HTTP port', () => {
  let app: App;
  let base: string;
  let port: number;
  const peers: RawPeer[] = [];
  const peer = (head: string, body?: Buffer | string) => {
    const p = rawRequest(port, head, body);
    peers.push(p);
    return p;
  };
  const budget = () => app.http.bodies.budget;

  beforeAll(async () => {
    app = await createApp(config, silentLogger, { database: await createPgliteDatabase() });
    base = (await app.start()).url;
    port = Number(new URL(base).port);
  });
  afterAll(async () => {
    for (const p of peers) p.socket.destroy();
    await app.stop();
  });

  it('past the global budget answers 503 with Retry-After at once, and closes; a signed small webhook still passes', async () => {
    // 120 KiB declared and 10 KiB sent: held in flight, counted in full.
    const holder = peer(webhookHead(port, 120 * KiB), Buffer.alloc(10 * KiB, 'a'));
    await until(() => budget().inUse === 120 * KiB, 'the first body to be reserved');

    const refused = peer(webhookHead(port, 100 * KiB), Buffer.alloc(10 * KiB, 'a'));
    const answer = await refused.answer;
    expect(answer.status).toBe(503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({ error: 'too many request bodies in flight; retry later' });
    expect(refused.resetBeforeAnswer()).toBe(false);
    await refused.closed;
    expect(budget().inUse).toBe(120 * KiB);

    // A real delivery is small: the share kept for small bodies lets it through.
    const ping = await postWebhook(base, { event: 'ping', body: pingPayload() });
    expect(ping.status).toBe(200);

    holder.socket.destroy();
    await until(() => budget().inUse === 0, 'the held body to be released');
    const after = await postWebhook(base, { event: 'ping', body: { ...pingPayload(), zen: 'z'.repeat(100 * KiB) } });
    expect(after.status).toBe(200);
  });

  it('a chunked body past the limit gets 413 (an answer, not a reset) and nothing is kept', async () => {
    const result = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/webhooks/github', headers: { 'content-type': 'application/json', 'x-github-event': 'push' } });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
        res.on('error', reject);
      });
      const chunk = Buffer.alloc(16 * KiB, 'x');
      let sent = 0;
      const pump = (): void => {
        // Keeps sending (up to 4 MiB) until the server answers.
        while (sent < 4096 * KiB && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(result.connection).toBe('close');
    expect(JSON.parse(result.body)).toEqual({ error: `payload larger than the limit of ${128 * KiB} bytes` });
    await until(() => budget().inUse === 0, 'the budget to be empty');
  });

  it('a declared Content-Length past the limit gets 413 before any body is sent', async () => {
    const p = peer(webhookHead(port, 10 * 1024 * KiB));
    const answer = await p.answer;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toMatch(/^payload of 10485760 bytes is larger than the limit of 131072 bytes$/);
    await p.closed;
    expect(budget().inUse).toBe(0);
  });

  it('closes a request whose headers stall, with 408', async () => {
    const p = peer(`POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-GitHub-Event: push\r\n`);
    const answer = await p.answer;
    expect(answer.status).toBe(408);
    expect(await p.closed).toBe('closed');
  });

  it('closes a request whose body stalls, with 408, and gives its bytes back', async () => {
    const p = peer(webhookHead(port, 50 * KiB), Buffer.alloc(KiB, 'a'));
    await until(() => budget().inUse === 50 * KiB, 'the body to be reserved');
    const answer = await p.answer;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error).toMatch(/did not arrive within 2 s/);
    expect(await p.closed).toBe('closed');
    expect(budget().inUse).toBe(0);
  });

  it('serves /healthz and signed webhooks while strangers stall 60 large bodies', async () => {
    const stallers = Array.from({ length: 60 }, () => peer(webhookHead(port, 128 * KiB), Buffer.alloc(120 * KiB, 'a')));
    const answers = await Promise.all(stallers.slice(1).map((s) => s.answer.then((a) => a.status).catch(() => 0)));
    // One 128 KiB body fits the large share (192 KiB); the others are refused at once.
    expect(answers.filter((s) => s === 503).length).toBeGreaterThanOrEqual(58);
    expect(budget().inUse).toBeLessThanOrEqual(192 * KiB);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ping = await postWebhook(base, { event: 'ping', body: pingPayload() });
    expect(ping.status).toBe(200);

    for (const s of stallers) s.socket.destroy();
    await until(() => budget().inUse === 0, 'every stalled body to be released');
  });
});

describe('the connection cap', () => {
  it('closes connections past HTTP_MAX_CONNECTIONS at once and serves again when one goes', async () => {
    const http = createHttpServer(silentLogger, { maxConnections: 3 });
    http.route('GET', '/ping', (_req, res) => sendJson(res, 200, { ok: true }));
    const { port } = await http.listen(0, '127.0.0.1');
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => undefined);
        await new Promise((r) => socket.once('connect', r));
        held.push(socket);
      }
      const connections = () => new Promise<number>((resolve, reject) => http.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
      const connectionsReach = async (n: number) => {
        for (let i = 0; i < 500 && (await connections()) !== n; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await connections()).toBe(n);
      };
      await connectionsReach(3);
      const extra = rawRequest(port, `GET /ping HTTP/1.1\r\nHost: x\r\n\r\n`);
      held.push(extra.socket);
      expect(await extra.closed).toBe('closed');
      await expect(extra.answer).rejects.toThrow(/connection closed without an answer/);

      held[0]?.destroy();
      await connectionsReach(2);
      const served = rawRequest(port, `GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      held.push(served.socket);
      expect((await served.answer).status).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
      await http.close();
    }
  });
});

describe('BodyBudget', () => {
  const budget = () => new BodyBudget({ totalBytes: 1000, smallBodyBytes: 100, smallReserveBytes: 200 });

  it('reserves a declared length up front and refuses what does not fit, taking nothing', () => {
    const b = budget();
    const a = b.reserve(500);
    expect(a?.bytes).toBe(500);
    expect(b.reserve(400)).toBeUndefined();
    expect(b.inUse).toBe(500);
    expect(b.reserve(300)?.bytes).toBe(300);
    a?.release();
    a?.release();
    expect(b.inUse).toBe(300);
  });

  it('keeps its last share for small bodies; a chunked body counts as large as it grows', () => {
    const b = budget();
    expect(b.reserve(800)).toBeDefined();
    expect(b.reserve(150)).toBeUndefined();
    const chunked = b.reserve(undefined);
    expect(chunked?.grow(1)).toBe(false);
    for (let i = 0; i < 2; i++) expect(b.reserve(100)).toBeDefined();
    expect(b.reserve(1)).toBeUndefined();
    expect(b.inUse).toBe(1000);
  });
});

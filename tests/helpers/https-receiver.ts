/**
 * A real HTTPS server on 127.0.0.1 standing in for a webhook receiver on the
 * internet. Its certificate is made per run by openssl for the host name
 * `hooks.test` (which no DNS server knows: a client reaches it only by
 * connecting to an address it was given), and is its own CA, so tests trust
 * it through the delivery's test-only option.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const RECEIVER_HOST = 'hooks.test';

export interface ReceivedRequest {
  method: string;
  url: string;
  host: string | undefined;
  body: string;
}

/** What the receiver does with the next request: answer a status, or never answer. */
export type Reply = { status: number; headers?: Record<string, string> } | 'hang';

export interface HttpsReceiver {
  port: number;
  ca: Buffer;
  received: ReceivedRequest[];
  /** Replies used in order; when they run out, every request gets 204. */
  replies: Reply[];
  /** The URL of a path on the receiver, by host name. */
  url(pathname: string): string;
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function makeCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hooks-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
      '-subj', `/CN=${RECEIVER_HOST}`, '-addext', `subjectAltName=DNS:${RECEIVER_HOST}`,
    ]);
    return { key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startHttpsReceiver(certificate?: { key: Buffer; cert: Buffer }): Promise<HttpsReceiver> {
  const { key, cert } = certificate ?? (await makeCertificate());
  const received: ReceivedRequest[] = [];
  const replies: Reply[] = [];
  const waiters: Array<() => void> = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = https.createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', host: request.headers.host, body: Buffer.concat(chunks).toString('utf8') });
      for (const wake of waiters.splice(0)) wake();
      const reply = replies.shift() ?? { status: 204 };
      if (reply === 'hang') {
        hanging.add(response);
        return;
      }
      response.writeHead(reply.status, reply.headers ?? {});
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    ca: cert,
    received,
    replies,
    url: (pathname) => `https://${RECEIVER_HOST}:${port}${pathname}`,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`the receiver got ${received.length} requests, expected ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

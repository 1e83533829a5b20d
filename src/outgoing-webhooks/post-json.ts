/**
 * One HTTPS POST of a JSON body to a pinned target: the socket connects to
 * the checked address while TLS verifies the certificate for the host name.
 * No redirects are followed, no connection is reused, and at most a little of
 * the answer is read.
 */
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PinnedTarget, ResolvedAddress } from './webhook-url.ts';

export interface PostAnswer {
  status: number;
  /** The `Retry-After` header, when there is one. */
  retryAfter?: string;
}

const MAX_ANSWER_BYTES = 2_048;

export function postJson(
  target: PinnedTarget,
  body: Buffer,
  options: { signal: AbortSignal; ca?: string | Buffer | undefined },
): Promise<PostAnswer> {
  const { url, hostname, address } = target;
  return new Promise<PostAnswer>((resolve, reject) => {
    const request = https.request(
      {
        host: hostname,
        port: url.port === '' ? 443 : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'recap-bot-webhook' },
        lookup: pinnedLookup(address),
        agent: false,
        signal: options.signal,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // The status is all we need; a receiver that keeps talking is cut off.
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        const done = (): void => {
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, ...(retryAfter === undefined ? {} : { retryAfter }) });
        };
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A lookup that answers with the address already checked, whatever the name. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all === true) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as LookupFunction;
}

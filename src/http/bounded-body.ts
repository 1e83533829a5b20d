import type { IncomingMessage } from 'node:http';
import type { BodyBudget } from './body-budget.ts';

/** Why a body was not read whole; `status` is the answer to give (see refuseRequest). */
export class BodyRefusedError extends Error {
  override readonly name = 'BodyRefusedError';
  constructor(
    readonly status: 400 | 408 | 413 | 503,
    message: string,
    /** Seconds the client should wait before trying again (503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** Headers the refusal must carry. */
  get headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) };
  }
}

interface BoundedBodyOptions {
  /** Larger bodies are refused with 413 (at once when the declared length is larger). */
  limit: number;
  /** The global budget of unauthenticated bytes in flight; past it, 503 with Retry-After. */
  budget: BodyBudget;
  /** The whole body must arrive within this (408 otherwise). */
  timeoutMs?: number;
  /** Retry-After of a 503 (seconds). */
  retryAfterSeconds?: number;
}

const DEFAULT_BODY_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_AFTER_SECONDS = 10;

/**
 * Reads a request body of at most `limit` bytes, holding its bytes against
 * `budget` from the first byte until the read ends (whole, refused, timed
 * out or aborted): the budget bounds what strangers pin before their
 * signature can be checked. A declared Content-Length is reserved up front
 * and copied into one buffer of that size; a chunked body reserves as it
 * grows. On refusal nothing more is read: answer with refuseRequest.
 */
export function readBoundedBody(req: IncomingMessage, options: BoundedBodyOptions): Promise<Buffer> {
  const { limit, budget } = options;
  const retryAfter = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const declared = declaredLength(req);
  if (declared === 'invalid') return Promise.reject(new BodyRefusedError(400, 'invalid Content-Length'));
  if (declared !== undefined && declared > limit) {
    return Promise.reject(new BodyRefusedError(413, `payload of ${declared} bytes is larger than the limit of ${limit} bytes`));
  }
  const reservation = budget.reserve(declared);
  if (reservation === undefined) {
    return Promise.reject(new BodyRefusedError(503, 'too many request bodies in flight; retry later', retryAfter));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const fixed = declared === undefined ? undefined : Buffer.allocUnsafeSlow(declared);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;

    const finish = (error: BodyRefusedError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      chunks.length = 0;
      reservation.release();
      if (error === undefined) resolve(body as Buffer);
      else {
        req.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) {
        finish(new BodyRefusedError(413, `payload larger than the limit of ${limit} bytes`));
        return;
      }
      if (fixed !== undefined) {
        // More than declared: the parser ends the body at Content-Length, so this cannot happen; refuse if it does.
        if (size + chunk.length > fixed.length) {
          finish(new BodyRefusedError(400, 'body longer than its Content-Length'));
          return;
        }
        chunk.copy(fixed, size);
      } else {
        if (!reservation.grow(chunk.length)) {
          finish(new BodyRefusedError(503, 'too many request bodies in flight; retry later', retryAfter));
          return;
        }
        chunks.push(chunk);
      }
      size += chunk.length;
    };
    const onEnd = (): void => {
      if (fixed !== undefined) {
        if (size !== fixed.length) finish(new BodyRefusedError(400, 'body shorter than its Content-Length'));
        else finish(undefined, fixed);
      } else {
        finish(undefined, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      }
    };
    const onAbort = (): void => finish(new BodyRefusedError(400, 'the request body could not be read: the client went away'));
    const timer = setTimeout(
      () => finish(new BodyRefusedError(408, `the body did not arrive within ${Math.round((options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS) / 1000)} s`)),
      options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    );
    timer.unref();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}

function declaredLength(req: IncomingMessage): number | undefined | 'invalid' {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  // Node's parser already refuses conflicting or malformed values; this keeps the type honest.
  if (!/^\d{1,15}$/.test(raw)) return 'invalid';
  return Number(raw);
}


import type { Registry } from 'prom-client';
import { messageOf } from '../log/error-message.ts';

/**
 * The manager asks each shard process for its metrics over the IPC channel
 * discord.js's ShardingManager already keeps open. A shard answers with
 * `registry.getMetricsAsJSON()`, which survives the channel's JSON
 * serialization and is what prom-client's aggregation takes.
 */

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

const REQUEST = 'recap:metrics-request';
const ANSWER = 'recap:metrics';

export interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

export type MetricsAnswer = { type: typeof ANSWER; id: number; metrics: MetricsJson } | { type: typeof ANSWER; id: number; error: string };

/** What a shard process needs of `process`: its IPC channel. */
export interface ParentChannel {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  send?: (message: unknown) => boolean;
}

/** What the manager needs of a discord.js Shard. */
export interface ShardChannel {
  readonly id: number;
  send(message: unknown): Promise<unknown>;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** Shard side: answers the manager's requests until the returned function is called. */
export function answerMetricsRequests(parent: ParentChannel, registry: Pick<Registry, 'getMetricsAsJSON'>): () => void {
  const listener = (message: unknown): void => {
    if (!isRequest(message)) return;
    registry
      .getMetricsAsJSON()
      .then((metrics): MetricsAnswer => ({ type: ANSWER, id: message.id, metrics }))
      .catch((error: unknown): MetricsAnswer => ({ type: ANSWER, id: message.id, error: messageOf(error) }))
      .then((answer) => parent.send?.(answer));
  };
  parent.on('message', listener);
  return () => {
    parent.off('message', listener);
  };
}

/** Manager side: one shard's metrics, or an Error when it fails or does not answer within `timeoutMs`. */
export function requestMetrics(shard: ShardChannel, id: number, timeoutMs: number): Promise<MetricsJson> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`shard ${shard.id} sent no metrics within ${timeoutMs} ms`)), timeoutMs);
    const listener = (message: unknown): void => {
      if (!isAnswer(message) || message.id !== id) return;
      finish('error' in message ? new Error(`shard ${shard.id}: ${message.error}`) : message.metrics);
    };
    const finish = (result: MetricsJson | Error): void => {
      clearTimeout(timer);
      shard.off('message', listener);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    shard.on('message', listener);
    const request: MetricsRequest = { type: REQUEST, id };
    shard.send(request).catch((error: unknown) => finish(error instanceof Error ? error : new Error(String(error))));
  });
}

function isRequest(message: unknown): message is MetricsRequest {
  const m = message as Partial<MetricsRequest> | null;
  return typeof m === 'object' && m !== null && m.type === REQUEST && Number.isSafeInteger(m.id);
}

function isAnswer(message: unknown): message is MetricsAnswer {
  const m = message as { type?: unknown; id?: unknown; metrics?: unknown; error?: unknown } | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === ANSWER &&
    Number.isSafeInteger(m.id) &&
    (Array.isArray(m.metrics) || typeof m.error === 'string')
  );
}

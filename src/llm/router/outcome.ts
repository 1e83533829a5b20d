/** Turning a call's history into words and accounting labels. */
import type { ProviderError } from '../provider-spec/contract.ts';
import { RouterError, RouterRefusal, describeWhen } from './errors.ts';
import type { AttemptRecord, UsageOutcome } from './types.ts';

export function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts
    .map((a) => {
      const what = a.status === 'skipped' ? `skipped (${a.detail ?? a.reason})` : `${a.reason}${a.detail ? ` (${a.detail})` : ''}`;
      return `${a.provider}/${a.model}${a.round > 0 ? ` [retry ${a.round}]` : ''}: ${what}`;
    })
    .join('; ');
}

/** Provider error text comes from a remote service: one line, printable, short. */
export function providerDetail(err: ProviderError): string {
  const status = err.details.status !== undefined ? `HTTP ${err.details.status}` : '';
  const text = err.message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim().slice(0, 160);
  return status && text ? `${status}: ${text}` : status || text;
}

export function outcomeOf(err: unknown): UsageOutcome {
  if (err instanceof RouterRefusal) return `refused:${err.kind}`;
  if (err instanceof RouterError) {
    if (err.kind === 'unavailable') return 'unavailable';
    if (err.kind === 'exhausted') return `error:${err.details.lastError?.kind ?? 'exhausted'}`;
    return `error:${err.kind}`;
  }
  if (err !== null && typeof err === 'object' && (err as { name?: unknown }).name === 'ProviderError') {
    return `error:${(err as ProviderError).kind}`;
  }
  return 'error:internal';
}

export function retryHint(retryAt: number | undefined, now: number): string {
  return retryAt === undefined ? '' : `; try again at ${describeWhen(retryAt, now)}`;
}

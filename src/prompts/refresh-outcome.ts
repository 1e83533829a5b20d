import type { SourceErrorKind } from './sources/source.ts';
import type { Problem } from './types.ts';

/** The last valid snapshot, still served while GitHub cannot confirm a newer one. */
export interface ServedCopy {
  commit: string;
  /** Since GitHub last confirmed it (what max-stale is measured against). */
  ageMs: number;
}

/** Statuses after which GitHub's answer is taken at its word: access is gone. */
export type DenialStatus = 404 | 401 | 403;

/**
 * What one refresh of one repository actually did, for every reporter (the
 * `set` and `refresh` replies, status, sync records, webhook results). Only
 * `changed` and `unchanged` are successes.
 */
export type RefreshOutcome =
  | { kind: 'changed'; commit: string; previous: string | null }
  | { kind: 'unchanged'; commit: string }
  /** 404, 401 or 403: the snapshot is kept (up to max-stale) but not served under this credential. */
  | { kind: 'denied'; status: DenialStatus; message: string; since: number; kept: ServedCopy | null; advice?: string }
  /** GitHub failed (5xx, timeout, network, rate limit…): `serving` is the stale copy still served, if any. */
  | {
      kind: 'failed';
      reason: Exclude<SourceErrorKind, 'not-found' | 'unauthorized' | 'forbidden'> | 'internal';
      status: number | null;
      message: string;
      serving: ServedCopy | null;
      /** A copy exists but is past max-stale, so it is not served. */
      expired: ServedCopy | null;
    }
  /** The newest commit fails validation; `serving` is the last valid commit, if any. */
  | { kind: 'invalid'; commit: string; problems: Problem[]; serving: ServedCopy | null };

export function isSuccess(outcome: RefreshOutcome): outcome is Extract<RefreshOutcome, { kind: 'changed' | 'unchanged' }> {
  return outcome.kind === 'changed' || outcome.kind === 'unchanged';
}

/** The commit GitHub says is newest, when the refresh learned one. */
export function headOf(outcome: RefreshOutcome): string | null {
  switch (outcome.kind) {
    case 'changed':
    case 'unchanged':
    case 'invalid':
      return outcome.commit;
    default:
      return null;
  }
}

/** Which source failures are authoritative denials, and with which status. */
export function denialStatusOf(kind: SourceErrorKind): DenialStatus | undefined {
  if (kind === 'not-found') return 404;
  if (kind === 'unauthorized') return 401;
  if (kind === 'forbidden') return 403;
  return undefined;
}

/** Reading a prompt source's outcomes in tests: the snapshot it fetched, or the SourceError it failed with. */
import { isSourceError, type FetchOutcome, type SourceError } from '../../src/prompts/sources/source.ts';
import { rejectionOf } from '../helpers/thrown.ts';

export const failure = (promise: Promise<unknown>): Promise<SourceError> => rejectionOf(promise, isSourceError);

export function snapshotOf(outcome: FetchOutcome) {
  if (outcome.kind !== 'snapshot') throw new Error(`expected a snapshot, got ${outcome.kind}`);
  return outcome.snapshot;
}

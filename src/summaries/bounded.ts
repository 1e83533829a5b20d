/**
 * Runs async work over items with at most `limit` running at once. After
 * the first failure no new item starts; items already running finish (their
 * results are kept), then the first failure is reported with what completed.
 */

interface BoundedOutcome<R> {
  /** By item index; undefined for items that did not complete. */
  results: Array<R | undefined>;
  completed: number;
  /** The first failure, when there was one. */
  error?: unknown;
}

export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  shouldStop: () => boolean = () => false,
): Promise<BoundedOutcome<R>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  let next = 0;
  let completed = 0;
  let failed = false;
  let error: unknown;

  const worker = async (): Promise<void> => {
    while (!failed && next < items.length && !shouldStop()) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
        completed++;
      } catch (err) {
        if (!failed) {
          failed = true;
          error = err;
        }
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  return failed ? { results, completed, error } : { results, completed };
}

/**
 * Runs one piece of plugin code with a deadline, containing whatever it
 * does: a throw or a rejection becomes an outcome, and a call cut off by its
 * deadline may still settle later without becoming an unhandled rejection.
 */
export type BoundedOutcome<T> = { status: 'ok'; value: T } | { status: 'error'; error: unknown } | { status: 'timeout' };

const TIMED_OUT = Symbol('timed out');

export async function runBounded<T>(
  timeoutMs: number,
  run: () => T | Promise<T>,
  /** A rejection that arrives after the deadline. */
  onLateFailure: (error: unknown) => void,
): Promise<BoundedOutcome<Awaited<T>>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = Promise.resolve().then(run);
  try {
    const winner = await Promise.race([
      pending,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
      }),
    ]);
    if (winner === TIMED_OUT) {
      pending.catch(onLateFailure);
      return { status: 'timeout' };
    }
    return { status: 'ok', value: winner as Awaited<T> };
  } catch (error) {
    return { status: 'error', error };
  } finally {
    clearTimeout(timer);
  }
}

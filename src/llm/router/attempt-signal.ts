/**
 * The AbortSignal one provider attempt runs under: the caller's signal
 * composed with the router's own timers. Whichever fires first aborts the
 * attempt, and `firedBy` says which, so a timeout (try elsewhere) is told
 * apart from the caller leaving (stop).
 */
type AttemptPhase = 'connect' | 'firstToken' | 'attempt' | 'deadline';

const PHASE_WORDS: Record<AttemptPhase, string> = {
  connect: 'no response',
  firstToken: 'no first token',
  attempt: 'no complete answer',
  deadline: 'the call ran out of time',
};

export class AttemptSignal {
  private readonly controller = new AbortController();
  private readonly timers: Partial<Record<AttemptPhase, ReturnType<typeof setTimeout> | undefined>> = {};
  private readonly caller: AbortSignal | undefined;
  private readonly onCallerAbort = (): void => this.abort('caller');
  firedBy: AttemptPhase | 'caller' | undefined;
  /** How long the phase that fired had, for messages. */
  firedAfterMs = 0;

  constructor(caller: AbortSignal | undefined) {
    this.caller = caller;
    if (caller === undefined) return;
    if (caller.aborted) this.abort('caller');
    else caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts the attempt after `ms` unless cleared first. Non-finite `ms` means no limit. */
  arm(phase: AttemptPhase, ms: number): void {
    if (!Number.isFinite(ms)) return;
    const delay = Math.max(0, ms);
    const timer = setTimeout(() => {
      this.firedAfterMs = delay;
      this.abort(phase);
    }, delay);
    // A pending attempt timer must never keep the process alive on shutdown.
    timer.unref?.();
    this.timers[phase] = timer;
  }

  clear(phase: AttemptPhase): void {
    const timer = this.timers[phase];
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers[phase] = undefined;
    }
  }

  /** Words for an error message, e.g. "no first token within 50 ms". */
  describe(): string {
    if (this.firedBy === undefined || this.firedBy === 'caller') return 'the caller gave up';
    const words = PHASE_WORDS[this.firedBy];
    return this.firedBy === 'deadline' ? words : `${words} within ${this.firedAfterMs} ms`;
  }

  /** Aborts with a reason of our own when the caller has not (e.g. the consumer stopped reading). */
  cancel(): void {
    this.abort('caller');
  }

  dispose(): void {
    this.clear('connect');
    this.clear('firstToken');
    this.clear('attempt');
    this.clear('deadline');
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }

  private abort(by: AttemptPhase | 'caller'): void {
    if (this.controller.signal.aborted) return;
    this.firedBy = by;
    const reason =
      by === 'caller' && this.caller?.aborted
        ? this.caller.reason
        : new DOMException(by === 'caller' ? 'cancelled' : this.describe(), by === 'caller' ? 'AbortError' : 'TimeoutError');
    this.controller.abort(reason);
  }
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts, whichever is
 * first: a provider that ignores its signal cannot hold the router past a timeout.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A per-step time limit joined with the caller's abort signal. Each awaited
 * network step (the answer starting, the next streamed event) gets `ms`;
 * time the caller spends between steps does not count, so a slow consumer
 * of a stream is never mistaken for a stalled server.
 */
export class StepDeadline {
  readonly #controller = new AbortController();
  readonly #caller: AbortSignal | undefined;
  readonly #ms: number;
  #timedOut = false;

  constructor(ms: number, caller?: AbortSignal) {
    this.#ms = ms;
    this.#caller = caller;
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else caller?.addEventListener('abort', this.#forwardAbort, { once: true });
  }

  /** Aborts when the caller aborts or a step overruns; hand it to the HTTP client. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  get callerAborted(): boolean {
    return this.#caller?.aborted ?? false;
  }

  async watch<T>(step: PromiseLike<T>): Promise<T> {
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new Error(`no answer within ${this.#ms} ms`));
    }, this.#ms);
    try {
      return await step;
    } finally {
      clearTimeout(timer);
    }
  }

  dispose(): void {
    this.#caller?.removeEventListener('abort', this.#forwardAbort);
  }

  readonly #forwardAbort = (): void => {
    this.#controller.abort(this.#caller?.reason);
  };
}

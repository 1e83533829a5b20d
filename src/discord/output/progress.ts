import type { SummarizeProgress } from '../../summaries/types.ts';

/**
 * Progress shown in a deferred reply while a long job runs. Updates are
 * throttled (Discord rate-limits edits, and members need no more than one
 * every couple of seconds), sent one at a time in order, and stop for good
 * once `close()` resolves, so a late progress edit can never overwrite the
 * final answer.
 */
export interface ProgressReporter {
  /** Shows `text` now if the last update is old enough; otherwise it is skipped (a later one will follow). */
  update(text: string): void;
  /** Stops updating and waits for an edit already on its way. */
  close(): Promise<void>;
}

export interface ProgressOptions {
  /** Sends one update; failures are reported to `onError` and do not stop the job. */
  show(text: string): Promise<void>;
  now(): number;
  /** Least time between two updates (default 2 s). */
  minIntervalMs?: number;
  onError?(error: unknown): void;
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const interval = options.minIntervalMs ?? 2_000;
  let lastShownAt = Number.NEGATIVE_INFINITY;
  let lastText = '';
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  return {
    update(text) {
      if (closed || text === lastText) return;
      const now = options.now();
      if (now - lastShownAt < interval) return;
      lastShownAt = now;
      lastText = text;
      chain = chain.then(async () => {
        if (closed) return;
        try {
          await options.show(text);
        } catch (error) {
          options.onError?.(error);
        }
      });
    },
    async close() {
      closed = true;
      await chain;
    },
  };
}

/** What a member reads while the summarizer works. */
export function summarizeProgressText(progress: SummarizeProgress, messages: number): string {
  switch (progress.stage) {
    case 'single':
      return `Summarizing ${messages.toLocaleString('en-US')} messages…`;
    case 'map':
      return `Summarizing ${messages.toLocaleString('en-US')} messages in ${progress.total} parts: ${progress.done} of ${progress.total} done…`;
    case 'reduce':
      return `Combining the partial summaries (round ${progress.round}: ${progress.done} of ${progress.total})…`;
  }
}

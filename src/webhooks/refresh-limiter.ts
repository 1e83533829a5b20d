import type { Clock } from '../resilience/clock.ts';

export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref?.());

export interface RefreshLimiterOptions {
  /** At most one delivery-caused refresh of a repository starts per this interval. */
  intervalMs: number;
  /** Repositories remembered at once (the least recently refreshed are forgotten first). */
  maxRepos: number;
}

export type Limited<R> =
  /** Ran now (or, for the first delivery that had to wait, after the interval: `delayed`). */
  | { kind: 'ran'; delayed: boolean; result: R }
  /** Joined a refresh that is already scheduled; its work runs with it. */
  | { kind: 'coalesced' };

interface RepoState<W> {
  lastStartedAt: number;
  trailing?: { work: Map<string, W> } | undefined;
}

/**
 * Limits refreshes caused by webhook deliveries, per repository: the first
 * runs at once; those arriving within the interval are merged into one
 * trailing refresh that starts when the interval is over. A refresh reads
 * the branch head as it is then, so the trailing one also covers every
 * push merged into it: the newest push is never lost. Only the first
 * delivery that has to wait waits (its queue slot and its row hold the
 * trailing refresh, so a crash leaves it to be retried); the others are
 * done at once.
 */
export class RefreshLimiter<W> {
  private readonly repos = new Map<string, RepoState<W>>();
  private readonly wakers = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly clock: Clock,
    private readonly options: RefreshLimiterOptions,
    private readonly sleep: Sleep = realSleep,
  ) {}

  async submit<R>(repoKey: string, work: Map<string, W>, run: (work: Map<string, W>) => Promise<R>): Promise<Limited<R>> {
    const now = this.clock.now();
    const state = this.repos.get(repoKey);
    if (state?.trailing !== undefined) {
      for (const [key, item] of work) state.trailing.work.set(key, item);
      return { kind: 'coalesced' };
    }
    if (state === undefined || now - state.lastStartedAt >= this.options.intervalMs) {
      this.remember(repoKey, { lastStartedAt: now });
      return { kind: 'ran', delayed: false, result: await run(work) };
    }
    const trailing = { work: new Map(work) };
    state.trailing = trailing;
    try {
      if (!this.closing) await this.wait(state.lastStartedAt + this.options.intervalMs - now);
    } finally {
      state.trailing = undefined;
      this.remember(repoKey, { lastStartedAt: this.clock.now() });
    }
    return { kind: 'ran', delayed: true, result: await run(trailing.work) };
  }

  /** Shutting down: waiting refreshes run now rather than holding the process (or their deliveries) up. */
  close(): void {
    this.closing = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  private wait(ms: number): Promise<void> {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.wakers.add(wake);
    return Promise.race([this.sleep(ms), woken]).finally(() => this.wakers.delete(wake));
  }

  private remember(repoKey: string, state: RepoState<W>): void {
    this.repos.delete(repoKey);
    this.repos.set(repoKey, state);
    // Forgetting a repository only allows one refresh more: drop the oldest quiet ones.
    for (const [key, old] of this.repos) {
      if (this.repos.size <= this.options.maxRepos) break;
      if (old.trailing === undefined) this.repos.delete(key);
    }
  }
}

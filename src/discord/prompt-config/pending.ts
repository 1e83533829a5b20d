import { randomBytes } from 'node:crypto';

export interface Pending<T> {
  /** Only this member may confirm or cancel. */
  ownerId: string;
  guildId: string;
  data: T;
}

/**
 * Confirmations waiting for their invoker's click, in memory, keyed by a
 * nonce carried in the buttons' custom ids. Each expires after `timeoutMs`
 * and then runs its `onExpire` (which disables the buttons). A restart
 * forgets them: a later click is told the confirmation expired.
 */
export class PendingConfirmations<T> {
  readonly #entries = new Map<string, { pending: Pending<T>; timer: NodeJS.Timeout }>();

  constructor(readonly timeoutMs: number) {}

  open(pending: Pending<T>, onExpire: (pending: Pending<T>) => Promise<void>): string {
    const nonce = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      if (!this.#entries.delete(nonce)) return;
      onExpire(pending).catch(() => undefined);
    }, this.timeoutMs);
    // A pending confirmation must never keep a stopping process alive.
    timer.unref();
    this.#entries.set(nonce, { pending, timer });
    return nonce;
  }

  peek(nonce: string): Pending<T> | undefined {
    return this.#entries.get(nonce)?.pending;
  }

  /** Removes and returns the entry: a second click finds nothing, so an action runs once. */
  take(nonce: string): Pending<T> | undefined {
    const entry = this.#entries.get(nonce);
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    this.#entries.delete(nonce);
    return entry.pending;
  }

  get size(): number {
    return this.#entries.size;
  }
}

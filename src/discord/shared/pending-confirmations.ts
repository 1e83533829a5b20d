import { randomBytes } from 'node:crypto';

export interface Pending<T> {
  /** Only this member may confirm or cancel. */
  ownerId: string;
  guildId: string;
  data: T;
}

/**
 * One kind of confirmation (e.g. "save this repository anyway") and how long
 * it waits for its click. `T` is what it carries; a kind is made once by the
 * command that asks, and only that command reads its entries.
 */
export interface ConfirmationKind<T> {
  readonly name: string;
  readonly timeoutMs: number;
  /** Never set: ties the kind to what its entries carry. */
  readonly carries?: T;
}

export function confirmationKind<T>(name: string, timeoutMs: number): ConfirmationKind<T> {
  return { name, timeoutMs };
}

interface Entry {
  kind: string;
  pending: Pending<unknown>;
  timer: NodeJS.Timeout;
}

/**
 * Confirmations waiting for their invoker's click, in memory, keyed by a
 * nonce carried in the buttons' custom ids. Each expires after its kind's
 * `timeoutMs` and then runs its `onExpire` (which disables the buttons). A
 * restart forgets them: a later click is told the confirmation expired.
 * One store per bot, in the interaction memory (../memory.ts).
 */
export class PendingConfirmations {
  readonly #entries = new Map<string, Entry>();

  open<T>(kind: ConfirmationKind<T>, pending: Pending<T>, onExpire: (pending: Pending<T>) => Promise<void>): string {
    const nonce = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      if (!this.#entries.delete(nonce)) return;
      onExpire(pending).catch(() => undefined);
    }, kind.timeoutMs);
    // A pending confirmation must never keep a stopping process alive.
    timer.unref();
    this.#entries.set(nonce, { kind: kind.name, pending, timer });
    return nonce;
  }

  /** The entry of this kind under `nonce`; another kind's nonce finds nothing. */
  peek<T>(kind: ConfirmationKind<T>, nonce: string): Pending<T> | undefined {
    const entry = this.#entries.get(nonce);
    // Only `open` with this same kind stores entries under its name, so they carry T.
    return entry?.kind === kind.name ? (entry.pending as Pending<T>) : undefined;
  }

  /** Removes and returns the entry: a second click finds nothing, so an action runs once. */
  take<T>(kind: ConfirmationKind<T>, nonce: string): Pending<T> | undefined {
    const pending = this.peek(kind, nonce);
    if (pending === undefined) return undefined;
    clearTimeout(this.#entries.get(nonce)!.timer);
    this.#entries.delete(nonce);
    return pending;
  }

  get size(): number {
    return this.#entries.size;
  }
}

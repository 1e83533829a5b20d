/**
 * One budget for the bytes of unauthenticated request bodies held in memory
 * at once, across every route of the HTTP port. A body is only authenticated
 * (its signature checked) once it is whole, so until then it is a stranger's
 * memory: without a global cap, many slow bodies pin as much as the attacker
 * likes.
 *
 * A share of the budget is kept for small bodies (a real GitHub push is a few
 * KiB), so strangers declaring large bodies cannot by themselves starve the
 * webhooks that matter.
 */
interface BodyBudgetOptions {
  totalBytes: number;
  /** A body up to this size (declared, or read so far) counts as small. */
  smallBodyBytes: number;
  /** Bytes only small bodies may use. */
  smallReserveBytes: number;
}

interface BodyReservation {
  /** Bytes held by this body. */
  readonly bytes: number;
  /** Takes `n` more bytes; false when the budget cannot give them (nothing is taken then). */
  grow(n: number): boolean;
  /** Gives every byte back; later calls do nothing. */
  release(): void;
}

export class BodyBudget {
  #inUse = 0;

  constructor(readonly options: BodyBudgetOptions) {
    if (options.smallReserveBytes > options.totalBytes) throw new RangeError('the small-body reserve exceeds the budget');
  }

  /** Bytes held by bodies in flight. */
  get inUse(): number {
    return this.#inUse;
  }

  /**
   * A reservation for one body: `declared` bytes up front when the request
   * declares its length (undefined when the reservation cannot be had), or
   * nothing yet for a chunked body, which grows as bytes arrive.
   */
  reserve(declared: number | undefined): BodyReservation | undefined {
    let held = 0;
    let released = false;
    // A chunked body counts as large: its size is unknown until it ends.
    const chunked = declared === undefined;
    const take = (n: number): boolean => {
      if (released) return false;
      const small = !chunked && held + n <= this.options.smallBodyBytes;
      const ceiling = small ? this.options.totalBytes : this.options.totalBytes - this.options.smallReserveBytes;
      if (this.#inUse + n > ceiling) return false;
      this.#inUse += n;
      held += n;
      return true;
    };
    if (declared !== undefined && declared > 0 && !take(declared)) return undefined;
    return {
      get bytes() {
        return held;
      },
      grow: take,
      release: () => {
        if (released) return;
        released = true;
        this.#inUse -= held;
        held = 0;
      },
    };
  }
}

/**
 * Recent latency per target in this process: the last `capacity` answered
 * attempts within `windowMs`, in a fixed ring per target so memory stays
 * bounded by the configured targets. Percentiles are computed when asked
 * (status views), never on the call path.
 */
export interface LatencyFigures {
  p50: number;
  p95: number;
  samples: number;
}

interface Ring {
  at: Float64Array;
  ms: Float64Array;
  next: number;
  size: number;
}

/** Targets beyond this many are not tracked (names come from config, so this is never reached in practice). */
const MAX_TARGETS = 500;

export class LatencyWindow {
  private readonly rings = new Map<string, Ring>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 5 * 60_000,
    private readonly capacity = 256,
  ) {}

  record(target: string, latencyMs: number): void {
    let ring = this.rings.get(target);
    if (ring === undefined) {
      if (this.rings.size >= MAX_TARGETS) return;
      ring = { at: new Float64Array(this.capacity), ms: new Float64Array(this.capacity), next: 0, size: 0 };
      this.rings.set(target, ring);
    }
    ring.at[ring.next] = this.now();
    ring.ms[ring.next] = latencyMs;
    ring.next = (ring.next + 1) % this.capacity;
    if (ring.size < this.capacity) ring.size++;
  }

  figures(target: string): LatencyFigures | undefined {
    const ring = this.rings.get(target);
    if (ring === undefined) return undefined;
    const horizon = this.now() - this.windowMs;
    const values: number[] = [];
    for (let i = 0; i < ring.size; i++) if ((ring.at[i] ?? 0) >= horizon) values.push(ring.ms[i] ?? 0);
    if (values.length === 0) return undefined;
    values.sort((a, b) => a - b);
    return { p50: percentile(values, 0.5), p95: percentile(values, 0.95), samples: values.length };
  }

  targets(): string[] {
    return [...this.rings.keys()];
  }

  get windowSeconds(): number {
    return Math.round(this.windowMs / 1000);
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return Math.round((sorted[rank - 1] ?? 0) * 10) / 10;
}

import type { RawTarEntry } from './archive.ts';

/** The endpoints the emulator answers, as named in faults and stats. */
export type EmulatorRoute =
  | 'repo'
  | 'commit'
  | 'branch'
  | 'tarball'
  | 'download'
  | 'contents'
  | 'installation'
  | 'access-token'
  | 'oauth-token'
  | 'user'
  | 'user-installations'
  | 'org-membership'
  | 'rate-limit'
  | 'unknown';

export type FaultAction =
  /** Waits before answering normally (or before the next fault). */
  | { kind: 'latency'; ms: number }
  /** Answers this status with a GitHub-style `{ message }` body. */
  | { kind: 'status'; status: number; message?: string }
  /**
   * Answers a rate limit. With `retryAfterSeconds` it is a secondary limit
   * (`retry-after`); otherwise a primary one (`x-ratelimit-remaining: 0`,
   * `x-ratelimit-reset` = now + `resetInSeconds`, default 60).
   */
  | { kind: 'rate-limit'; status?: 403 | 429; retryAfterSeconds?: number; resetInSeconds?: number }
  /** Never answers; the connection stays open until the client gives up or the emulator closes. */
  | { kind: 'hang' }
  /** Drops the connection without an answer. */
  | { kind: 'reset' }
  /** Download only: serves the first `fraction` (default 0.5) of the gzip bytes, then ends cleanly. */
  | { kind: 'truncate'; fraction?: number }
  /** Download only: appends these entries to the archive (hostile names, links, devices). */
  | { kind: 'archive-entries'; entries: RawTarEntry[] };

export type Fault = FaultAction & {
  /** Which endpoint; default every one. Archive faults always apply to `download`. */
  route?: EmulatorRoute | '*';
  /** Only requests for this `owner/name` (case-insensitive). */
  repo?: string;
  /** How many matching requests it affects; default all until removed. */
  times?: number;
};

export interface FaultHandle {
  remove(): void;
  /** Requests this fault has affected so far. */
  readonly hits: number;
}

interface ActiveFault {
  fault: Fault;
  remaining: number;
  hits: number;
}

const archiveKinds = new Set(['truncate', 'archive-entries']);

/** Programmatic fault injection, matched per request in the order faults were added. */
export class FaultSet {
  private active: ActiveFault[] = [];

  add(fault: Fault): FaultHandle {
    const entry: ActiveFault = { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.active.push(entry);
    return {
      remove: () => {
        this.active = this.active.filter((candidate) => candidate !== entry);
      },
      get hits() {
        return entry.hits;
      },
    };
  }

  clear(): void {
    this.active = [];
  }

  /** Takes (and uses up) every fault that applies to this request. */
  take(route: EmulatorRoute, repo: string | undefined): FaultAction[] {
    const taken: FaultAction[] = [];
    for (const entry of this.active) {
      if (entry.remaining <= 0 || !matches(entry.fault, route, repo)) continue;
      entry.remaining -= 1;
      entry.hits += 1;
      taken.push(entry.fault);
    }
    this.active = this.active.filter((entry) => entry.remaining > 0);
    return taken;
  }
}

function matches(fault: Fault, route: EmulatorRoute, repo: string | undefined): boolean {
  const wanted = archiveKinds.has(fault.kind) ? 'download' : (fault.route ?? '*');
  if (wanted !== '*' && wanted !== route) return false;
  if (fault.repo !== undefined && fault.repo.toLowerCase() !== repo?.toLowerCase()) return false;
  return true;
}

/**
 * What the processes of one deployment tell each other about targets: a
 * cooldown a provider asked for with Retry-After, and the shared side of a
 * target's circuit (open until when, and who holds the half-open probe).
 * Reads are synchronous, from a view the implementation keeps fresh, so the
 * router's hot path waits on no query; only claiming a probe does.
 * A target is named `provider/model`; the scope is 'operator' or the guild
 * whose own key is in use, as for the breakers.
 */
export type TargetScope = string | undefined;

export interface SharedTargetRow {
  target: string;
  /** undefined: the operator's key. */
  guildId: string | undefined;
  cooldownUntil: number | undefined;
  openUntil: number | undefined;
}

export interface SharedTargets {
  /** ms since epoch until which the target asked not to be called, if that is still ahead. */
  cooldownUntil(target: string, guildId: TargetScope): number | undefined;
  noteCooldown(target: string, guildId: TargetScope, until: number): void;
  /** Set while some process has the target's circuit open (also once the cool-down passed, until a probe settles it). */
  openUntil(target: string, guildId: TargetScope): number | undefined;
  noteOpened(target: string, guildId: TargetScope, until: number): void;
  noteClosed(target: string, guildId: TargetScope): void;
  /** After `openUntil`: true for exactly one caller across the deployment until it settles or `leaseMs` passes. */
  claimProbe(target: string, guildId: TargetScope, leaseMs: number): Promise<boolean>;
  releaseProbe(target: string, guildId: TargetScope): void;
  /** Every row known now, for status views. */
  rows(): SharedTargetRow[];
}

const keyOf = (target: string, guildId: TargetScope): string => (guildId === undefined ? target : `${target}\u0000${guildId}`);

/** One process: the same contract in memory. Also the view a Postgres-backed implementation keeps. */
export class LocalTargets implements SharedTargets {
  protected readonly entries = new Map<string, SharedTargetRow & { probeUntil: number | undefined }>();

  constructor(protected readonly now: () => number) {}

  protected entry(target: string, guildId: TargetScope): SharedTargetRow & { probeUntil: number | undefined } {
    const key = keyOf(target, guildId);
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { target, guildId, cooldownUntil: undefined, openUntil: undefined, probeUntil: undefined };
      this.entries.set(key, e);
    }
    return e;
  }

  protected peek(target: string, guildId: TargetScope): (SharedTargetRow & { probeUntil: number | undefined }) | undefined {
    return this.entries.get(keyOf(target, guildId));
  }

  cooldownUntil(target: string, guildId: TargetScope): number | undefined {
    const until = this.peek(target, guildId)?.cooldownUntil;
    return until !== undefined && until > this.now() ? until : undefined;
  }

  noteCooldown(target: string, guildId: TargetScope, until: number): void {
    const e = this.entry(target, guildId);
    if (e.cooldownUntil === undefined || until > e.cooldownUntil) e.cooldownUntil = until;
  }

  openUntil(target: string, guildId: TargetScope): number | undefined {
    return this.peek(target, guildId)?.openUntil;
  }

  noteOpened(target: string, guildId: TargetScope, until: number): void {
    const e = this.entry(target, guildId);
    e.openUntil = until;
    e.probeUntil = undefined;
  }

  noteClosed(target: string, guildId: TargetScope): void {
    const e = this.peek(target, guildId);
    if (e === undefined) return;
    e.openUntil = undefined;
    e.probeUntil = undefined;
  }

  async claimProbe(target: string, guildId: TargetScope, leaseMs: number): Promise<boolean> {
    const e = this.entry(target, guildId);
    const now = this.now();
    if (e.openUntil !== undefined && e.openUntil > now) return false;
    if (e.probeUntil !== undefined && e.probeUntil > now) return false;
    e.probeUntil = now + leaseMs;
    return true;
  }

  releaseProbe(target: string, guildId: TargetScope): void {
    const e = this.peek(target, guildId);
    if (e !== undefined) e.probeUntil = undefined;
  }

  rows(): SharedTargetRow[] {
    const now = this.now();
    const out: SharedTargetRow[] = [];
    for (const e of this.entries.values()) {
      const cooldownUntil = e.cooldownUntil !== undefined && e.cooldownUntil > now ? e.cooldownUntil : undefined;
      if (cooldownUntil === undefined && e.openUntil === undefined) continue;
      out.push({ target: e.target, guildId: e.guildId, cooldownUntil, openUntil: e.openUntil });
    }
    return out;
  }
}

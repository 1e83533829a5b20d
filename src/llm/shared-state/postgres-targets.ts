/**
 * The router's shared target view on Postgres (`llm_target_state`). Reads
 * come from memory, which a timer refreshes every `ttlMs` with one small
 * query (and a read finding the view older than that starts a refresh in the
 * background), so a call never waits on the database here. Writes update the view at once and go to
 * the database without the caller waiting. Only claiming the half-open
 * probe is a query the caller waits for, and it happens once per cool-down.
 * Another process therefore sees a cooldown or an opened circuit within
 * `ttlMs` (default 500 ms).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Clock } from '../../resilience/clock.ts';
import type { PluginLogger } from '../plugin-host/types.ts';
import { LocalTargets, type SharedTargetRow, type SharedTargets, type TargetScope } from '../router/shared-targets.ts';
import { messageOf } from '../../log/error-message.ts';

export interface PostgresTargetsOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: PluginLogger;
  ttlMs?: number;
}

/** Bounds what one refresh reads: rows are per target and per guild with its own key. */
const MAX_ROWS = 5000;

const scopeOf = (guildId: TargetScope): string => guildId ?? '';

export class PostgresTargets implements SharedTargets {
  private readonly view: ViewTargets;
  private readonly db: Kysely<Database>;
  private readonly clock: Clock;
  private readonly logger: PluginLogger;
  private readonly ttlMs: number;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readonly writes = new Set<Promise<void>>();
  /** Bumped by every local write, so a refresh that started earlier does not undo it. */
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: PostgresTargetsOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.logger = options.logger;
    this.ttlMs = options.ttlMs ?? 500;
    this.view = new ViewTargets(() => this.clock.now());
  }

  cooldownUntil(target: string, guildId: TargetScope): number | undefined {
    this.maybeRefresh();
    return this.view.cooldownUntil(target, guildId);
  }

  openUntil(target: string, guildId: TargetScope): number | undefined {
    this.maybeRefresh();
    return this.view.openUntil(target, guildId);
  }

  noteCooldown(target: string, guildId: TargetScope, until: number): void {
    this.view.noteCooldown(target, guildId, until);
    this.view.stamp(target, guildId, ++this.seq);
    const at = new Date(until);
    this.write('cooldown', () =>
      this.db
        .insertInto('llm_target_state')
        .values({ target, scope: scopeOf(guildId), cooldown_until: at, updated_at: new Date(this.clock.now()) })
        .onConflict((oc) =>
          oc.columns(['target', 'scope']).doUpdateSet({
            cooldown_until: sql<Date>`greatest(llm_target_state.cooldown_until, excluded.cooldown_until)`,
            updated_at: (eb) => eb.ref('excluded.updated_at'),
          }),
        )
        .execute(),
    );
  }

  noteOpened(target: string, guildId: TargetScope, until: number): void {
    this.view.noteOpened(target, guildId, until);
    this.view.stamp(target, guildId, ++this.seq);
    const at = new Date(until);
    this.write('open', () =>
      this.db
        .insertInto('llm_target_state')
        .values({ target, scope: scopeOf(guildId), open_until: at, probe_until: null, updated_at: new Date(this.clock.now()) })
        .onConflict((oc) =>
          oc.columns(['target', 'scope']).doUpdateSet({ open_until: at, probe_until: null, updated_at: (eb) => eb.ref('excluded.updated_at') }),
        )
        .execute(),
    );
  }

  noteClosed(target: string, guildId: TargetScope): void {
    this.view.noteClosed(target, guildId);
    this.view.stamp(target, guildId, ++this.seq);
    this.write('close', () =>
      this.db
        .updateTable('llm_target_state')
        .set({ open_until: null, probe_until: null, updated_at: new Date(this.clock.now()) })
        .where('target', '=', target)
        .where('scope', '=', scopeOf(guildId))
        .where('open_until', 'is not', null)
        .execute(),
    );
  }

  async claimProbe(target: string, guildId: TargetScope, leaseMs: number): Promise<boolean> {
    const now = new Date(this.clock.now());
    try {
      const row = await this.db
        .updateTable('llm_target_state')
        .set({ probe_until: new Date(now.getTime() + leaseMs), updated_at: now })
        .where('target', '=', target)
        .where('scope', '=', scopeOf(guildId))
        .where('open_until', '<=', now)
        .where((eb) => eb.or([eb('probe_until', 'is', null), eb('probe_until', '<=', now)]))
        .returning('target')
        .executeTakeFirst();
      return row !== undefined;
    } catch (err) {
      // Without the database no process can be told it holds the probe; this one stays out.
      this.logger.warn({ target, err: messageOf(err) }, 'could not claim the shared half-open probe');
      return false;
    }
  }

  releaseProbe(target: string, guildId: TargetScope): void {
    this.view.releaseProbe(target, guildId);
    this.write('release', () =>
      this.db
        .updateTable('llm_target_state')
        .set({ probe_until: null })
        .where('target', '=', target)
        .where('scope', '=', scopeOf(guildId))
        .execute(),
    );
  }

  rows(): SharedTargetRow[] {
    this.maybeRefresh();
    return this.view.rows();
  }

  /** Reads the table now (status views and tests call this; calls never wait for it). */
  async refresh(): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    const startSeq = this.seq;
    const now = this.clock.now();
    this.fetchedAt = now;
    const run = (async () => {
      try {
        const rows = await this.db
          .selectFrom('llm_target_state')
          .select(['target', 'scope', 'cooldown_until', 'open_until', 'probe_until'])
          .where((eb) => eb.or([eb('open_until', 'is not', null), eb('cooldown_until', '>', new Date(now))]))
          .limit(MAX_ROWS)
          .execute();
        this.view.replace(rows, startSeq);
      } catch (err) {
        this.logger.warn({ err: messageOf(err) }, 'shared router state could not be read; using what this process knows');
      } finally {
        this.refreshing = undefined;
      }
    })();
    this.refreshing = run;
    return run;
  }

  /** Keeps the view fresh while nothing reads it, so the first call after a quiet spell sees what others did. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.refresh(), this.ttlMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for the writes. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.refreshing;
  }

  /** Waits for every write started so far (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private maybeRefresh(): void {
    if (this.refreshing === undefined && this.clock.now() - this.fetchedAt >= this.ttlMs) void this.refresh();
  }

  private write(what: string, run: () => Promise<unknown>): void {
    const p: Promise<void> = run().then(
      () => undefined,
      (err: unknown) => this.logger.warn({ what, err: messageOf(err) }, 'shared router state could not be written'),
    );
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
  }
}

/** The in-memory view, with the bookkeeping a refresh needs to merge without losing newer local writes. */
class ViewTargets extends LocalTargets {
  private readonly stamps = new Map<string, number>();

  stamp(target: string, guildId: TargetScope, seq: number): void {
    this.stamps.set(guildId === undefined ? target : `${target}\u0000${guildId}`, seq);
  }

  replace(
    rows: readonly { target: string; scope: string; cooldown_until: Date | null; open_until: Date | null; probe_until: Date | null }[],
    startSeq: number,
  ): void {
    const fresh = new Map<string, (typeof rows)[number]>();
    for (const r of rows) fresh.set(r.scope === '' ? r.target : `${r.target}\u0000${r.scope}`, r);
    for (const [key, e] of this.entries) {
      if ((this.stamps.get(key) ?? 0) > startSeq) continue;
      if (!fresh.has(key)) this.entries.delete(key);
    }
    for (const [key, r] of fresh) {
      if ((this.stamps.get(key) ?? 0) > startSeq) continue;
      const e = this.entry(r.target, r.scope === '' ? undefined : r.scope);
      e.cooldownUntil = r.cooldown_until?.getTime();
      e.openUntil = r.open_until?.getTime();
      e.probeUntil = r.probe_until?.getTime();
    }
    // Stamps older than this refresh have done their job.
    for (const [key, seq] of this.stamps) if (seq <= startSeq) this.stamps.delete(key);
  }
}

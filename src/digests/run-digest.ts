import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobHandler } from '../jobs/job-queue.ts';
import type { Logger } from '../log/logger.ts';
import type { AdminNotices } from '../notices/admin-notice.ts';
import type { Clock } from '../resilience/clock.ts';
import { clearFailures, countFailure, digestById, finishRun, openRun, setPaused, type DigestRow } from './digest-store.ts';
import { DIGEST_MAX_ATTEMPTS, type DigestJobPayload } from './scheduler.ts';

/** What delivering one run did. */
export type DeliveryOutcome =
  | { outcome: 'posted'; messageCount: number; messageUrl: string }
  | { outcome: 'skipped-quiet'; messageCount: 0 }
  /** Refused at run time: the visibility invariant no longer holds. */
  | { outcome: 'not-posted'; messageCount?: number; reason: string }
  /** The guild, source or destination is gone: the digest is paused. */
  | { outcome: 'gone'; reason: string };

export interface DigestRun {
  digest: DigestRow;
  runId: string;
  window: { start: Date; end: Date };
  dueAt: Date;
  attempt: number;
  signal: AbortSignal;
}

/**
 * Reads the window, summarizes it and posts it: the Discord side lives in
 * src/discord/digest/. An attempt after the first must not post twice: it
 * looks for the message an earlier attempt may have posted first.
 */
export interface DigestDelivery {
  deliver(run: DigestRun): Promise<DeliveryOutcome>;
}

export interface DigestRunnerDeps {
  db: Kysely<Database>;
  delivery: DigestDelivery;
  clock: Clock;
  logger: Logger;
  notices?: AdminNotices | undefined;
}

function parsePayload(payload: Record<string, unknown>): DigestJobPayload {
  const p = payload as Partial<DigestJobPayload>;
  const dates = [p.dueAt, p.windowStart, p.windowEnd].map((d) => (typeof d === 'string' ? Date.parse(d) : Number.NaN));
  if (typeof p.digestId !== 'string' || dates.some((d) => Number.isNaN(d)) || (p.trigger !== 'schedule' && p.trigger !== 'run-now')) {
    throw new Error('a digest job without a digest id, due time and window');
  }
  return p as DigestJobPayload;
}

/** The job handler for `digest-run:<shard>`: runs one due time of one digest, once, and records it. */
export function createDigestRunHandler(deps: DigestRunnerDeps): JobHandler {
  const { db, clock, logger } = deps;
  const notify = async (digest: DigestRow, kind: 'digest-paused' | 'digest-not-posted' | 'digest-failing', title: string, lines: string[]): Promise<void> => {
    if (deps.notices === undefined) return;
    await deps.notices.post({ guildId: digest.guild_id, kind, cause: `digest:${digest.id}:${kind}`, title, lines }).catch((error: unknown) => {
      logger.warn({ digest: digest.id, kind, err: error }, 'could not post the admin notice');
    });
  };

  return async (job) => {
    const payload = parsePayload(job.payload);
    const digest = await digestById(db, payload.digestId);
    if (digest === undefined) return { skipped: 'the digest was deleted' };
    if (digest.paused && payload.trigger === 'schedule') return { skipped: 'the digest is paused' };
    const now = new Date(clock.now());
    const window = { start: new Date(payload.windowStart), end: new Date(payload.windowEnd) };
    const { run, opened } = await openRun(db, {
      digestId: digest.id,
      guildId: digest.guild_id,
      dueAt: new Date(payload.dueAt),
      trigger: payload.trigger,
      windowStart: window.start,
      windowEnd: window.end,
      jobId: job.id,
      now,
    });
    if (!opened && run.outcome !== 'running') return { runId: run.id, outcome: run.outcome, already: true };

    let delivered: DeliveryOutcome;
    try {
      delivered = await deps.delivery.deliver({ digest, runId: run.id, window, dueAt: run.due_at, attempt: job.attempt, signal: job.signal });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (job.attempt >= DIGEST_MAX_ATTEMPTS) {
        await finishRun(db, run.id, { outcome: 'failed', detail: reason.slice(0, 1_000) }, new Date(clock.now()));
        const inARow = await countFailure(db, digest.id);
        if (inARow >= 2) {
          await notify(digest, 'digest-failing', `Digest ${digest.id} failed ${inARow} times in a row`, [
            `Digest of <#${digest.source_id}> into <#${digest.destination_id}>.`,
            `Last error: ${reason.slice(0, 300)}`,
          ]);
        }
      }
      throw error;
    }

    const finished = new Date(clock.now());
    switch (delivered.outcome) {
      case 'posted':
      case 'skipped-quiet':
        await finishRun(db, run.id, { outcome: delivered.outcome, messageCount: delivered.messageCount, ...(delivered.outcome === 'posted' ? { messageUrl: delivered.messageUrl } : {}) }, finished);
        await clearFailures(db, digest.id);
        break;
      case 'not-posted':
        await finishRun(db, run.id, { outcome: 'not-posted', messageCount: delivered.messageCount, detail: delivered.reason }, finished);
        await notify(digest, 'digest-not-posted', `Digest ${digest.id} was not posted`, [delivered.reason]);
        break;
      case 'gone':
        await finishRun(db, run.id, { outcome: 'paused', detail: delivered.reason }, finished);
        await setPaused(db, digest.id, { paused: true, reason: delivered.reason }, finished);
        await notify(digest, 'digest-paused', `Digest ${digest.id} is paused`, [delivered.reason, 'Fix it, then `/digest resume id:' + digest.id + '`.']);
        break;
    }
    logger.info({ digest: digest.id, run: run.id, outcome: delivered.outcome, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() }, 'digest run finished');
    return { runId: run.id, outcome: delivered.outcome };
  };
}

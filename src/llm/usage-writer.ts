/**
 * The database UsageSink: every routed call becomes a row in `llm_calls`.
 * Records are buffered and inserted in batches, one batch at a time, so the
 * hot path never waits for the database. `flush()` writes everything
 * received so far (call it on shutdown); a batch that fails to insert goes
 * back to the front of the buffer and is tried again.
 *
 * Writes form one chain, which also lets a reader run "after every record
 * received so far is written and before any later one is": the spend store
 * uses that to load a day's total without counting a record twice or missing
 * one.
 */
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { LlmCallsTable } from './tables.ts';
import type { PluginLogger } from './plugin-host/types.ts';
import type { UsageRecord, UsageSink } from './router/types.ts';
import { messageOf } from '../log/error-message.ts';

interface UsageWriter extends UsageSink {
  record(entry: UsageRecord): void;
  /** Resolves once every record received before the call is written; rejects if that write failed (the records are kept). */
  flush(): Promise<void>;
  /** Runs `work` after the records received so far are written, and before any received later are. */
  afterPendingWrites<T>(work: () => Promise<T>): Promise<T>;
  /** Records waiting to be written. */
  readonly pending: number;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

interface UsageWriterOptions {
  db: Kysely<Database>;
  logger: PluginLogger;
  /** A batch is written once this many records wait; default 100. */
  batchSize?: number;
  /** Or this long after the first of them arrived; default 1 s. */
  flushIntervalMs?: number;
  /** Records kept while the database is failing; the oldest are dropped beyond this (and logged). Default 50,000. */
  maxPending?: number;
}

/** A row as inserted. */
type Row = Insertable<LlmCallsTable>;

/** Postgres allows 65,535 parameters per statement; 16 columns a row. */
const ROWS_PER_INSERT = 1_000;

export function createUsageWriter(options: UsageWriterOptions): UsageWriter {
  const db = options.db;
  const { logger } = options;
  const batchSize = options.batchSize ?? 100;
  const intervalMs = options.flushIntervalMs ?? 1_000;
  const maxPending = options.maxPending ?? 50_000;
  let buffer: Row[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      // Failures are logged in write(); the records stay buffered for the next attempt.
      flush().catch(() => undefined);
    }, intervalMs);
    timer.unref();
  }

  async function write(batch: Row[]): Promise<void> {
    let written = 0;
    try {
      while (written < batch.length) {
        const slice = batch.slice(written, written + ROWS_PER_INSERT);
        await db.insertInto('llm_calls').values(slice).execute();
        written += slice.length;
      }
    } catch (err) {
      // Each insert is all-or-nothing: keep exactly the rows not yet in.
      requeue(batch.slice(written));
      logger.error(
        { records: batch.length - written, err: messageOf(err) },
        'usage records could not be written; they are kept and retried',
      );
      schedule();
      throw err;
    }
  }

  function requeue(rows: Row[]): void {
    buffer = rows.concat(buffer);
    if (buffer.length > maxPending) {
      const dropped = buffer.length - maxPending;
      buffer = buffer.slice(dropped);
      logger.error({ dropped }, 'usage records were lost: the database has been failing for too long');
    }
  }

  function flush(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = buffer;
    buffer = [];
    const run = chain.then(() => (batch.length > 0 ? write(batch) : undefined));
    chain = run.catch(() => undefined);
    return run;
  }

  return {
    record(entry) {
      buffer.push(toRow(entry));
      // After close() nothing waits for a timer: a late record (a call that was still running) is written at once.
      if (closed || buffer.length >= batchSize) flush().catch(() => undefined);
      else schedule();
    },
    flush,
    afterPendingWrites(work) {
      const run = flush()
        .catch(() => undefined)
        .then(work);
      chain = run.catch(() => undefined);
      return run;
    },
    get pending() {
      return buffer.length;
    },
    async close() {
      closed = true;
      await flush();
    },
  };
}

function toRow(e: UsageRecord): Row {
  const { task, provider, model } = e;
  return {
    guild_id: e.guildId,
    user_id: e.userId,
    task,
    provider,
    model,
    input_tokens: clampInt(e.inputTokens),
    output_tokens: clampInt(e.outputTokens),
    cache_read_tokens: clampInt(e.cacheReadTokens ?? 0),
    cache_write_tokens: clampInt(e.cacheWriteTokens ?? 0),
    estimated: e.estimated === true,
    // numeric(12,6): six decimals, and never a value the column would reject.
    cost_usd: (Number.isFinite(e.costUsd) && e.costUsd > 0 ? Math.min(e.costUsd, 999_999) : 0).toFixed(6),
    latency_ms: clampInt(e.latencyMs),
    outcome: e.outcome.slice(0, 64),
    key_source: e.keySource,
    correlation_id: e.correlationId.slice(0, 200),
    created_at: e.at,
  };
}

/** Token counts come from providers; an integer column must never make the whole batch fail. */
function clampInt(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.min(Math.round(n), 2_147_483_647) : 0;
}

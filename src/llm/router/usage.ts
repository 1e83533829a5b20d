import type { PluginLogger } from '../plugin-host/types.ts';
import type { ModelInfo, Usage } from '../provider-spec/contract.ts';
import type { UsageRecord, UsageSink } from './types.ts';
import { messageOf } from '../../log/error-message.ts';

/** USD for a call at the model's list prices (per million tokens). */
export function costOf(model: ModelInfo | undefined, usage: Usage): number {
  if (model === undefined) return 0;
  const readPrice = model.cacheReadPricePerMTok ?? model.inputPricePerMTok * 0.1;
  const writePrice = model.cacheWritePricePerMTok ?? model.inputPricePerMTok * 1.25;
  return (
    (usage.inputTokens * model.inputPricePerMTok +
      usage.outputTokens * model.outputPricePerMTok +
      (usage.cacheReadTokens ?? 0) * readPrice +
      (usage.cacheWriteTokens ?? 0) * writePrice) /
    1_000_000
  );
}

/** Providers report usage from hostile responses; only finite, non-negative whole numbers are believed. */
export function cleanUsage(usage: Partial<Usage> | undefined, fallback: Usage): Usage {
  const clean: Usage = {
    inputTokens: countOr(usage?.inputTokens, fallback.inputTokens),
    outputTokens: countOr(usage?.outputTokens, fallback.outputTokens),
  };
  const read = countOr(usage?.cacheReadTokens, 0);
  const write = countOr(usage?.cacheWriteTokens, 0);
  if (read > 0) clean.cacheReadTokens = read;
  if (write > 0) clean.cacheWriteTokens = write;
  return clean;
}

/** Whether a provider's count is one to believe (else the estimate stands in for it). */
export function reportedCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}

function countOr(n: unknown, fallback: number): number {
  return reportedCount(n) ? Math.round(n) : fallback;
}

/**
 * Hands a record to the sink without waiting: accounting must never fail
 * or slow the call it describes. Failures are logged (without the record's
 * identifiers beyond the correlation id).
 */
export function recordUsage(sink: UsageSink, entry: UsageRecord, logger: PluginLogger): void {
  try {
    const pending = sink.record(entry);
    if (pending !== undefined && typeof (pending as Promise<void>).catch === 'function') {
      (pending as Promise<void>).catch((err: unknown) => logSinkFailure(logger, entry, err));
    }
  } catch (err) {
    logSinkFailure(logger, entry, err);
  }
}

function logSinkFailure(logger: PluginLogger, entry: UsageRecord, err: unknown): void {
  logger.error(
    { correlationId: entry.correlationId, outcome: entry.outcome, err: messageOf(err) },
    'usage record was lost',
  );
}

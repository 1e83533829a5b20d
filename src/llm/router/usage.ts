import type { PluginLogger } from '../plugin-host/types.ts';
import type { ModelInfo, Usage } from '../provider-spec/contract.ts';
import type { UsageRecord, UsageSink } from './types.ts';
import { messageOf } from '../../log/error-message.ts';

/** USD for a call at the model's list prices (per million tokens). */
export function costOf(model: ModelInfo | undefined, usage: Usage): number {
  if (model === undefined) return 0;
  return (usage.inputTokens * model.inputPricePerMTok + usage.outputTokens * model.outputPricePerMTok) / 1_000_000;
}

/** Providers report usage from hostile responses; only finite, non-negative whole numbers are believed. */
export function cleanUsage(usage: Partial<Usage> | undefined, fallback: Usage): Usage {
  const input = usage?.inputTokens;
  const output = usage?.outputTokens;
  return {
    inputTokens: typeof input === 'number' && Number.isFinite(input) && input >= 0 ? Math.round(input) : fallback.inputTokens,
    outputTokens:
      typeof output === 'number' && Number.isFinite(output) && output >= 0 ? Math.round(output) : fallback.outputTokens,
  };
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

import type { PromptReport, SummaryResult } from '../../summaries/types.ts';
import { shortSha } from '../format/text.ts';

/**
 * Where a prompt came from, as a footer shows it: `owner/repo@1a2b3c4:path`
 * for a guild repository (marked when served from a stale snapshot),
 * `bundled:path` for the bot's own prompts, `fallback` for the compiled-in one.
 */
function promptSource(prompt: PromptReport): string {
  switch (prompt.level) {
    case 'custom':
    case 'cached': {
      const where = `${prompt.repo ?? 'repository'}@${shortSha(prompt.commit)}:${prompt.path ?? '?'}`;
      return prompt.level === 'cached' ? `${where} (cached copy)` : where;
    }
    case 'default':
      return `bundled:${prompt.path ?? '?'}`;
    case 'fallback':
      return 'fallback';
  }
}

/** "$0.0042", "$1.25", "$0". */
function formatCost(usd: number): string {
  if (!(usd > 0)) return '$0';
  if (usd < 0.0001) return '<$0.0001';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/**
 * The line under every summary: prompt, model, size and cost, then `cut`,
 * the sentence saying what reading left out when it stopped short of what
 * was asked for (`./history-cut.ts`).
 */
export function summaryFooter(result: Pick<SummaryResult, 'prompt' | 'provider' | 'model' | 'messages' | 'chunks' | 'costUsd' | 'reused'>, cut?: string): string {
  const size = `${result.messages.toLocaleString('en-US')} message${result.messages === 1 ? '' : 's'} · ${result.chunks} chunk${result.chunks === 1 ? '' : 's'}`;
  const cost = result.reused ? 'reused, no new cost' : formatCost(result.costUsd);
  const line = `Prompt ${promptSource(result.prompt)} · ${result.provider}/${result.model} · ${size} · ${cost}`;
  return cut === undefined ? line : `${line} · ${cut}`;
}

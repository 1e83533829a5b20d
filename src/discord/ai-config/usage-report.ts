import type { APIEmbed } from 'discord.js';
import type { GuildAiSettings } from '../../llm/guild-ai-settings.ts';
import type { TargetUsage, UsagePeriod, UsageSummary, UsageTotals } from '../../llm/usage-summary.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedLines, inlineCode, plural } from '../format/text.ts';
import { count, percent, usd } from './money.ts';

/**
 * `/ai-config usage`: today and the last days (UTC calendar days) with
 * requests, tokens and cost, by provider and model, the part paid with the
 * operator's key, and how much of today's budget that part used.
 */
export function usageEmbed(summary: UsageSummary, settings: GuildAiSettings): APIEmbed {
  const { today, lastDays } = summary;
  const budget = settings.dailyBudgetUsd ?? null;
  const overBudget = budget !== null && today.operatorCostUsd >= budget;
  return boundedEmbed({
    title: 'AI usage for this server',
    color: overBudget ? EmbedColors.warning : EmbedColors.info,
    description: budgetText(budget, today.operatorCostUsd),
    fields: [
      { name: 'Today (UTC)', value: totalsText(today), inline: true },
      { name: `Last ${plural(lastDays.days, 'day')}`, value: totalsText(lastDays), inline: true },
      today.byTarget.length > 0 && { name: 'Today by provider/model', value: targetLines(today) },
      lastDays.byTarget.length > 0 && { name: `Last ${plural(lastDays.days, 'day')} by provider/model`, value: targetLines(lastDays) },
    ],
    footer: "Costs are estimates from the providers' prices. The budget counts only calls paid with the operator's key.",
  });
}

function budgetText(budget: number | null, spentToday: number): string {
  if (budget === null) return "**Daily budget:** none: calls paid with the operator's key are not limited by cost.";
  if (budget === 0) return "**Daily budget:** $0: calls paid with the operator's key are switched off for this server.";
  const left = Math.max(0, budget - spentToday);
  return (
    `**Daily budget:** ${usd(budget)} per UTC day. **Used today:** ${usd(spentToday)} (${percent(spentToday, budget)}), ` +
    (left > 0 ? `${usd(left)} left.` : 'used up: calls paid with the operator’s key wait for the next UTC day.')
  );
}

function totalsText(t: UsageTotals): string {
  if (t.requests === 0) return 'No calls.';
  return [
    `${plural(t.requests, 'request')}${t.failed > 0 ? ` (${count(t.failed)} failed)` : ''}`,
    `Tokens: ${count(t.inputTokens)} in / ${count(t.outputTokens)} out`,
    `Cost: ${usd(t.costUsd)}`,
    `Operator-paid: ${usd(t.operatorCostUsd)} (${percent(t.operatorCostUsd, t.costUsd)})`,
  ].join('\n');
}

function targetName(t: TargetUsage): string {
  if (t.provider === null) return 'no provider reached';
  return inlineCode(t.model === null ? t.provider : `${t.provider}/${t.model}`, 80);
}

function targetLines(period: UsagePeriod): string {
  const lines = period.byTarget.map(
    (t) =>
      `${targetName(t)}: ${plural(t.requests, 'request')}${t.failed > 0 ? ` (${count(t.failed)} failed)` : ''}, ` +
      `${count(t.inputTokens)} in / ${count(t.outputTokens)} out, ${usd(t.costUsd)}` +
      (t.operatorCostUsd > 0 ? ` (operator ${usd(t.operatorCostUsd)})` : ''),
  );
  return boundedLines(lines, { max: DiscordLimits.fieldValue, more: (n) => `…and ${plural(n, 'more target')}` }).text;
}

import type { APIEmbed } from 'discord.js';
import type { GuildAiSettings } from '../../llm/guild-ai-settings.ts';
import type { BudgetDay } from '../../llm/budget-ledger.ts';
import type { TargetStatus } from '../../llm/router-status.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedLines, discordTimeWithAge, inlineCode } from '../format/text.ts';
import { usd } from './money.ts';
import { orderText } from './provider-order.ts';

export interface AiStatus {
  settings: GuildAiSettings;
  /** In the operator's order. */
  enabled: readonly string[];
  /** Providers a server key can be stored for, with when this server's key was set (undefined: none stored). */
  keys: ReadonlyArray<{ provider: string; storedAt: Date | undefined }>;
  /** Today's spend against the budget and the thresholds crossed; undefined when it could not be read. */
  budgetDay?: BudgetDay | undefined;
  /** This server's targets: circuit, cooldown and recent latency (its own key's circuit where it uses one). */
  targets?: readonly TargetStatus[];
}

const ms = (n: number): string => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);

function targetLine(t: TargetStatus): string {
  const circuit =
    t.circuit === 'closed'
      ? 'working'
      : t.circuit === 'open'
        ? `failing: passed over until ${t.circuitRetryAt === null ? 'further notice' : discordTimeWithAge(new Date(t.circuitRetryAt))}`
        : 'recovering: one test call is let through';
  const cooldown = t.cooldownUntil === null ? '' : ` · provider asked to wait until ${discordTimeWithAge(new Date(t.cooldownUntil))}`;
  const latency = t.latencyMs === null ? 'no recent calls' : `p50 ${ms(t.latencyMs.p50)}, p95 ${ms(t.latencyMs.p95)} (${t.latencyMs.samples} call${t.latencyMs.samples === 1 ? '' : 's'})`;
  const whose = t.scope === 'own key' ? ' (this server’s key)' : '';
  return `${inlineCode(t.target)}${whose}: ${circuit}${cooldown} · ${latency}`;
}

/** `/ai-config status`: this server's AI settings, and which keys it stored (never their values). */
export function statusEmbed(status: AiStatus): APIEmbed {
  const { settings, enabled } = status;
  const order = settings.providerOrder;
  const budget = settings.dailyBudgetUsd ?? null;
  const keyLines = status.keys.map(({ provider, storedAt }) =>
    `${inlineCode(provider)}: ${storedAt === undefined ? 'not set' : `set ${discordTimeWithAge(storedAt)}`}`,
  );
  return boundedEmbed({
    title: 'AI settings for this server',
    color: budget === 0 ? EmbedColors.warning : EmbedColors.info,
    fields: [
      {
        name: 'Provider order',
        value:
          order === undefined
            ? `the operator’s: ${orderText(enabled) || 'no provider is enabled'}`
            : `${orderText(order)} (set for this server; \`/ai-config providers-reset\` goes back to the operator’s)`,
      },
      { name: 'Enabled providers', value: enabled.length === 0 ? 'none' : enabled.map((name) => inlineCode(name)).join(', ') },
      {
        name: 'Server API keys',
        value:
          keyLines.length === 0
            ? 'No enabled provider takes a server key.'
            : boundedLines(keyLines, { max: DiscordLimits.fieldValue }).text,
      },
      {
        name: 'Operator’s key',
        value: settings.allowOperatorKey ? 'allowed where this server has no key of its own' : 'not allowed',
        inline: true,
      },
      { name: 'PII redaction', value: settings.piiRedaction ? 'on' : 'off', inline: true },
      {
        name: 'Daily budget',
        value: budget === null ? 'none' : budget === 0 ? '$0: calls on the operator’s key are switched off' : `${usd(budget)} per UTC day`,
        inline: true,
      },
      ...budgetTodayField(budget, status.budgetDay),
      ...(status.targets === undefined
        ? []
        : [
            {
              name: 'Models (last 5 minutes)',
              value:
                status.targets.length === 0
                  ? 'No model is configured for this server.'
                  : boundedLines(status.targets.map(targetLine), { max: DiscordLimits.fieldValue }).text,
            },
          ]),
    ],
    footer: 'Change with /ai-config providers, key-set, key-remove, operator-key, pii, budget. See spending with /ai-config usage.',
  });
}

/** Until a notices channel carries them, the 80% and 100% crossings are shown here. */
function budgetTodayField(budget: number | null, day: BudgetDay | undefined): Array<{ name: string; value: string }> {
  if (budget === null || !(budget > 0) || day === undefined) return [];
  const lines = [`${usd(day.spentUsd)} of ${usd(budget)} spent (UTC day ${day.day}) on calls paid with the operator’s key`];
  if (day.heldUsd > 0) lines.push(`${usd(day.heldUsd)} held by calls in progress`);
  if (day.crossed100At !== null) lines.push(`100% reached ${discordTimeWithAge(day.crossed100At)}: calls on the operator’s key are refused until 00:00 UTC`);
  if (day.crossed80At !== null) lines.push(`80% reached ${discordTimeWithAge(day.crossed80At)}`);
  return [{ name: 'Budget today', value: lines.join('\n') }];
}

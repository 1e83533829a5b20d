import type { ChatInputCommandInteraction } from 'discord.js';
import { GuildAiSettingsError, type GuildAiSettings, type GuildAiSettingsPatch } from '../../llm/guild-ai-settings.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import type { SubcommandHandler } from '../shared/subcommands.ts';
import { deferOnce } from '../respond.ts';
import { requireAiAdmin } from './access.ts';
import { usd } from './money.ts';
import { orderText, parseProviderOrder } from './provider-order.ts';

/**
 * The settings subcommands. Each changes one thing through the settings
 * store, which validates it again and writes the audit entry (with the
 * member as actor) in the same transaction.
 */
async function update(
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  guildId: string,
  patch: GuildAiSettingsPatch,
): Promise<GuildAiSettings> {
  await deferOnce(interaction, true);
  try {
    return await ctx.services.llm.settings.update(guildId, patch, { actorId: interaction.user.id, correlationId: ctx.correlationId });
  } catch (error) {
    if (error instanceof GuildAiSettingsError) {
      throw new UserFacingError(`${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}. Nothing was changed.`);
    }
    throw error;
  }
}

/** `/ai-config providers order`: which providers this server's calls may use, in order. */
export async function runProviders(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  const order = parseProviderOrder(interaction.options.getString('order', true), ctx.services.llm.enabledProviders());
  await update(interaction, ctx, guildId, { providerOrder: order });
  await replyPrivately(interaction, {
    content:
      `Provider order for this server: ${orderText(order)}. Calls try them in this order and use no other provider. ` +
      'Go back to the operator’s order with `/ai-config providers-reset`.',
  });
}

/** `/ai-config providers-reset`: back to the operator's order. */
export async function runProvidersReset(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  await update(interaction, ctx, guildId, { providerOrder: null });
  await replyPrivately(interaction, {
    content: `This server now uses the operator’s provider order: ${orderText(ctx.services.llm.enabledProviders()) || 'no provider is enabled'}.`,
  });
}

/** A subcommand that switches one setting on or off with a boolean option. */
interface Toggle {
  option: string;
  patch: (on: boolean) => GuildAiSettingsPatch;
  /** The answer once it is on, and once it is off. */
  on: string;
  off: string;
}

function toggle(spec: Toggle): SubcommandHandler {
  return async (interaction, ctx) => {
    const guildId = requireAiAdmin(interaction);
    const on = interaction.options.getBoolean(spec.option, true);
    await update(interaction, ctx, guildId, spec.patch(on));
    await replyPrivately(interaction, { content: on ? spec.on : spec.off });
  };
}

/** `/ai-config operator-key allowed`. */
export const runOperatorKey = toggle({
  option: 'allowed',
  patch: (allowed) => ({ allowOperatorKey: allowed }),
  on: "The operator's API keys may now serve this server where it has no key of its own (those calls count against the daily budget).",
  off: "The operator's API keys no longer serve this server: only providers with this server's own key (`/ai-config key-set`) or that need no key are used.",
});

/** `/ai-config pii enabled`. */
export const runPii = toggle({
  option: 'enabled',
  patch: (enabled) => ({ piiRedaction: enabled }),
  on: 'PII redaction is on: e-mail addresses, phone numbers, IP addresses and credentials in messages are replaced before they are sent to a provider.',
  off: "PII redaction is off: this server's messages are sent to providers as written.",
});

/** `/ai-config budget usd`. */
export async function runBudget(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  const amount = interaction.options.getNumber('usd', true);
  // Discord enforces the option's minimum in its client only; the store checks again.
  if (!Number.isFinite(amount) || amount < 0) throw new UserFacingError('The budget must be a number of US dollars, 0 or more. Nothing was changed.');
  await update(interaction, ctx, guildId, { dailyBudgetUsd: amount });
  const { llm } = ctx.services;
  await llm.usage.flush();
  const spent = (await llm.usage.summary(guildId, { days: 1 })).today.operatorCostUsd;
  await replyPrivately(interaction, {
    content:
      amount === 0
        ? "Daily budget set to $0: calls paid with the operator's key are switched off for this server until the budget is raised or cleared; calls with this server's own keys go on."
        : `Daily budget set to ${usd(amount)} per UTC day for calls paid with the operator's key; ${usd(spent)} used so far today. ` +
          "Calls with this server's own keys are not counted. Remove the limit with `/ai-config budget-clear`.",
  });
}

/** `/ai-config budget-clear`. */
export async function runBudgetClear(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  await update(interaction, ctx, guildId, { dailyBudgetUsd: null });
  await replyPrivately(interaction, { content: "Daily budget removed: this server's calls are no longer limited by cost." });
}

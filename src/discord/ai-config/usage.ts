import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { deferOnce } from '../respond.ts';
import { requireAiAdmin } from './access.ts';
import { usageEmbed } from './usage-report.ts';

const USAGE_DAYS = 30;

/** `/ai-config usage`: today and the last 30 days. */
export async function runUsage(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  await deferOnce(interaction, true);
  const { llm } = ctx.services;
  // Usage records are written in batches; the report includes every call made so far.
  await llm.usage.flush();
  const [summary, settings] = await Promise.all([llm.usage.summary(guildId, { days: USAGE_DAYS }), llm.settings.get(guildId)]);
  await replyPrivately(interaction, { embeds: [usageEmbed(summary, settings)] });
}

import type { ChatInputCommandInteraction } from 'discord.js';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import { DeliveryStore } from '../../webhooks/delivery-store.ts';
import type { CommandContext } from '../command.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { statusEmbed } from './status-report.ts';
import { webhookSummary } from './webhook.ts';
import { noticesEmbeds } from '../shared/notices-status.ts';

const FAILED_DELIVERIES_SHOWN = 3;
/** Older failures are history, not something to act on now. */
const FAILED_DELIVERIES_WINDOW_MS = 7 * 86_400_000;

/** `/prompt-config status`: this server's repository, sync, token and serving level. */
export async function runStatus(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const [status, token, hook] = await Promise.all([
    ctx.services.prompts.status(guildId),
    ctx.services.vault.metadata(guildId, GITHUB_TOKEN_PURPOSE),
    ctx.services.webhooks.hooks.forGuild(guildId),
  ]);
  const since = new Date(ctx.services.clock.now() - FAILED_DELIVERIES_WINDOW_MS);
  const failed = status.config === null ? [] : await DeliveryStore.over(ctx.services.db).failedFor(`${status.config.owner}/${status.config.repo}`, FAILED_DELIVERIES_SHOWN, since);
  await replyPrivately(interaction, { embeds: [statusEmbed(status, token, webhookSummary(hook), failed)] });
  // A message of its own: the status embed may use a whole message's embed budget.
  const notices = await noticesEmbeds(ctx, guildId);
  if (notices.length > 0) await replyPrivately(interaction, { embeds: notices });
}

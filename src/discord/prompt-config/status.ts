import type { ChatInputCommandInteraction } from 'discord.js';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import type { CommandContext } from '../command.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { replyPrivately } from './reply.ts';
import { statusEmbed } from './status-report.ts';
import { webhookSummary } from './webhook.ts';

/** `/prompt-config status`: this server's repository, sync, token and serving level. */
export async function runStatus(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const [status, token, hook] = await Promise.all([
    ctx.services.prompts.status(guildId),
    ctx.services.vault.metadata(guildId, GITHUB_TOKEN_PURPOSE),
    ctx.services.webhooks.hooks.forGuild(guildId),
  ]);
  await replyPrivately(interaction, { embeds: [statusEmbed(status, token, webhookSummary(hook))] });
}

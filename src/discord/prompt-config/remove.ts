import { ButtonStyle, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import type { CommandContext } from '../command.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { describeDuration, inlineCode } from '../format/text.ts';
import { requireGuildAdmin } from './access.ts';
import { claimConfirmation, confirmationRow, type ButtonSpec } from './confirm.ts';
import type { PendingConfirmations } from './pending.ts';
import { replyPrivately } from './reply.ts';

export interface RemoveTarget {
  /** `owner/repo@branch`, or null when only a token is stored. */
  label: string | null;
  hasToken: boolean;
}

const REMOVE_BUTTONS: readonly ButtonSpec[] = [
  { action: 'remove', label: 'Remove', style: ButtonStyle.Danger },
  { action: 'cancel-remove', label: 'Cancel', style: ButtonStyle.Secondary },
];

/** `/prompt-config remove`: asks first; only the invoker can confirm. */
export async function runRemove(
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  pending: PendingConfirmations<RemoveTarget>,
): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const [config, token] = await Promise.all([
    ctx.services.prompts.config(guildId),
    ctx.services.vault.metadata(guildId, GITHUB_TOKEN_PURPOSE),
  ]);
  if (config === null && token === undefined) {
    await replyPrivately(interaction, { content: 'No prompt repository or token is configured for this server; there is nothing to remove.' });
    return;
  }
  const target: RemoveTarget = {
    label: config === null ? null : `${config.owner}/${config.repo}@${config.branch}`,
    hasToken: token !== undefined,
  };
  const nonce = pending.open({ ownerId: interaction.user.id, guildId, data: target }, async () => {
    await interaction.editReply({
      content: `Timed out after ${describeDuration(pending.timeoutMs)}: nothing was removed.`,
      embeds: [],
      components: [confirmationRow(nonce, REMOVE_BUTTONS, true)],
      allowedMentions: { parse: [] },
    });
  });
  const what = [target.label === null ? null : `the prompt repository ${inlineCode(target.label)}`, target.hasToken ? 'the stored GitHub token' : null]
    .filter(Boolean)
    .join(' and ');
  await replyPrivately(interaction, {
    embeds: [
      boundedEmbed({
        title: 'Remove the prompt configuration?',
        color: EmbedColors.warning,
        description:
          `This removes ${what}${target.label === null ? '' : ' (and its webhook secret, if any)'}. Requests then use the bundled prompts. ` +
          `Only you can confirm, within ${describeDuration(pending.timeoutMs)}.`,
      }),
    ],
    components: [confirmationRow(nonce, REMOVE_BUTTONS)],
  });
}

export async function onRemoveButton(
  interaction: ButtonInteraction,
  ctx: CommandContext,
  pending: PendingConfirmations<RemoveTarget>,
  action: 'remove' | 'cancel-remove',
  nonce: string | undefined,
): Promise<void> {
  const { guildId } = claimConfirmation(interaction, pending, nonce);
  if (action === 'cancel-remove') {
    await interaction.update({ content: 'Cancelled: nothing was removed.', embeds: [], components: [] });
    return;
  }
  requireGuildAdmin(interaction);
  await interaction.deferUpdate();
  const { prompts, vault } = ctx.services;
  // Expire the snapshot under the current config's key while the config is still known.
  await prompts.config(guildId);
  prompts.invalidateGuild(guildId);
  // The webhook and its secret belong to the config: its URL stops verifying at once.
  const removedHook = await ctx.services.webhooks.hooks.remove(guildId);
  ctx.services.webhooks.forgetGuild(guildId);
  const removedConfig = await prompts.removeConfig(guildId);
  const removedTokens = await vault.delete(guildId, GITHUB_TOKEN_PURPOSE);
  prompts.invalidateGuild(guildId);
  await recordAudit(ctx.services.db, {
    guildId,
    actorId: interaction.user.id,
    action: 'prompt-config.remove',
    details: { config: removedConfig, token: removedTokens > 0, webhook: removedHook },
    correlationId: ctx.correlationId,
  });
  ctx.logger.info({ config: removedConfig, token: removedTokens > 0 }, 'prompt configuration removed');
  await interaction.editReply({
    content: `Removed${removedConfig ? ' the prompt repository' : ''}${removedTokens > 0 ? `${removedConfig ? ' and' : ''} the stored token` : ''}. Requests in this server now use the bundled prompts.`,
    embeds: [],
    components: [],
    allowedMentions: { parse: [] },
  });
}

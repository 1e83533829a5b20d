import type { ButtonInteraction, ChatInputCommandInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import type { CommandContext } from '../command.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { describeDuration, inlineCode } from '../format/text.ts';
import { requireGuildAdmin } from './access.ts';
import type { ConfirmationKind } from '../shared/pending-confirmations.ts';
import { answerConfirmation, confirmOrCancel, confirmationRow, openConfirmation } from './confirm.ts';
import { replyPrivately } from '../shared/private-reply.ts';

export interface RemoveTarget {
  /** `owner/repo@branch`, or null when only a token is stored. */
  label: string | null;
  hasToken: boolean;
}

const REMOVE_BUTTONS = confirmOrCancel({ action: 'remove', label: 'Remove' }, 'cancel-remove');

/** `/prompt-config remove`: asks first; only the invoker can confirm. */
export async function runRemove(
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  confirm: ConfirmationKind<RemoveTarget>,
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
  const nonce = openConfirmation(interaction, ctx, {
    kind: confirm,
    guildId,
    data: target,
    buttons: REMOVE_BUTTONS,
    expiredOutcome: 'nothing was removed.',
    expiredEmbeds: () => [],
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
          `Only you can confirm, within ${describeDuration(confirm.timeoutMs)}.`,
      }),
    ],
    components: [confirmationRow(nonce, REMOVE_BUTTONS)],
  });
}

export function onRemoveButton(
  interaction: ButtonInteraction,
  ctx: CommandContext,
  confirm: ConfirmationKind<RemoveTarget>,
  action: 'remove' | 'cancel-remove',
  nonce: string | undefined,
): Promise<void> {
  return answerConfirmation(interaction, ctx, confirm, nonce, action === 'remove', {
    cancelled: () => ({ content: 'Cancelled: nothing was removed.', embeds: [] }),
    confirmed: async ({ guildId }) => {
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
      return {
        content: `Removed${removedConfig ? ' the prompt repository' : ''}${removedTokens > 0 ? `${removedConfig ? ' and' : ''} the stored token` : ''}. Requests in this server now use the bundled prompts.`,
        embeds: [],
      };
    },
  });
}

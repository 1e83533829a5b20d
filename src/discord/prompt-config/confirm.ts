import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type APIEmbed, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { describeDuration } from '../format/text.ts';
import type { ConfirmationKind, Pending } from '../shared/pending-confirmations.ts';
import { requireGuildAdmin } from './access.ts';
import { customId, type PromptConfigAction } from './custom-ids.ts';

export interface ButtonSpec {
  action: PromptConfigAction;
  label: string;
  style: ButtonStyle;
}

/** The two buttons of every confirmation: the change (red), then Cancel. */
export function confirmOrCancel(confirm: { action: PromptConfigAction; label: string }, cancel: PromptConfigAction): readonly ButtonSpec[] {
  return [
    { ...confirm, style: ButtonStyle.Danger },
    { action: cancel, label: 'Cancel', style: ButtonStyle.Secondary },
  ];
}

/** A row of confirmation buttons bound to one pending confirmation. */
export function confirmationRow(nonce: string, buttons: readonly ButtonSpec[], disabled = false): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    buttons.map((b) => new ButtonBuilder().setCustomId(customId(b.action, nonce)).setLabel(b.label).setStyle(b.style).setDisabled(disabled)),
  );
}

export interface ConfirmationRequest<T> {
  kind: ConfirmationKind<T>;
  /** The guild the invoker's admin check returned. */
  guildId: string;
  data: T;
  buttons: readonly ButtonSpec[];
  /** Ends "Timed out after 2 minutes: " once nobody answered: `nothing was saved.` */
  expiredOutcome: string;
  /** What the timed-out reply shows besides that line. */
  expiredEmbeds(data: T): APIEmbed[];
}

/**
 * Opens a confirmation that only the invoker may answer, and returns the
 * nonce its buttons carry. Left unanswered, the reply says it timed out and
 * its buttons are disabled.
 */
export function openConfirmation<T>(interaction: ChatInputCommandInteraction, ctx: CommandContext, request: ConfirmationRequest<T>): string {
  const { kind, buttons } = request;
  const nonce = ctx.memory.confirmations.open(kind, { ownerId: interaction.user.id, guildId: request.guildId, data: request.data }, async ({ data }) => {
    await interaction.editReply({
      content: `Timed out after ${describeDuration(kind.timeoutMs)}: ${request.expiredOutcome}`,
      embeds: request.expiredEmbeds(data),
      components: [confirmationRow(nonce, buttons, true)],
      allowedMentions: { parse: [] },
    });
  });
  return nonce;
}

/**
 * The pending confirmation a click may act on: only its invoker may press,
 * and only once (a second click, or one after the time-out, finds nothing).
 */
function claimConfirmation<T>(interaction: ButtonInteraction, ctx: CommandContext, kind: ConfirmationKind<T>, nonce: string | undefined): Pending<T> {
  const { confirmations } = ctx.memory;
  const entry = nonce === undefined ? undefined : confirmations.peek(kind, nonce);
  if (entry === undefined || nonce === undefined) {
    throw new UserFacingError('This confirmation has expired or was already answered. Run the command again.');
  }
  if (entry.ownerId !== interaction.user.id || entry.guildId !== interaction.guildId) {
    throw new UserFacingError(`Only <@${entry.ownerId}>, who ran this command, can press these buttons. Run /prompt-config yourself to make a change.`);
  }
  const taken = confirmations.take(kind, nonce);
  if (taken === undefined) throw new UserFacingError('This confirmation was already answered.');
  return taken;
}

/** What a confirmation's message becomes once answered (its buttons go). */
export interface AnsweredReply {
  content: string;
  embeds: APIEmbed[];
}

/**
 * A click on a confirmation's button: claimed by its invoker only, once.
 * Cancel answers at once; confirm checks Manage Server again (it may have
 * been taken away meanwhile) before `confirmed` acts.
 */
export async function answerConfirmation<T>(
  interaction: ButtonInteraction,
  ctx: CommandContext,
  kind: ConfirmationKind<T>,
  nonce: string | undefined,
  confirm: boolean,
  answers: { cancelled(data: T): AnsweredReply; confirmed(pending: Pending<T>): Promise<AnsweredReply> },
): Promise<void> {
  const pending = claimConfirmation(interaction, ctx, kind, nonce);
  if (!confirm) {
    await interaction.update({ ...answers.cancelled(pending.data), components: [], allowedMentions: { parse: [] } });
    return;
  }
  requireGuildAdmin(interaction);
  await interaction.deferUpdate();
  const reply = await answers.confirmed(pending);
  await interaction.editReply({ ...reply, components: [], allowedMentions: { parse: [] } });
}

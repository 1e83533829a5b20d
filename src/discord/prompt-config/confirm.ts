import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type ButtonInteraction } from 'discord.js';
import { UserFacingError } from '../errors.ts';
import { customId, type PromptConfigAction } from './custom-ids.ts';
import type { Pending, PendingConfirmations } from './pending.ts';

export interface ButtonSpec {
  action: PromptConfigAction;
  label: string;
  style: ButtonStyle;
}

/** A row of confirmation buttons bound to one pending confirmation. */
export function confirmationRow(nonce: string, buttons: readonly ButtonSpec[], disabled = false): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    buttons.map((b) => new ButtonBuilder().setCustomId(customId(b.action, nonce)).setLabel(b.label).setStyle(b.style).setDisabled(disabled)),
  );
}

/**
 * The pending confirmation a click may act on: only its invoker may press,
 * and only once (a second click, or one after the time-out, finds nothing).
 */
export function claimConfirmation<T>(interaction: ButtonInteraction, pending: PendingConfirmations<T>, nonce: string | undefined): Pending<T> {
  const entry = nonce === undefined ? undefined : pending.peek(nonce);
  if (entry === undefined || nonce === undefined) {
    throw new UserFacingError('This confirmation has expired or was already answered. Run the command again.');
  }
  if (entry.ownerId !== interaction.user.id || entry.guildId !== interaction.guildId) {
    throw new UserFacingError(`Only <@${entry.ownerId}>, who ran this command, can press these buttons. Run /prompt-config yourself to make a change.`);
  }
  const taken = pending.take(nonce);
  if (taken === undefined) throw new UserFacingError('This confirmation was already answered.');
  return taken;
}

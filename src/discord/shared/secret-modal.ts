/**
 * Secrets members hand the bot (a GitHub token, a provider API key) are typed
 * into a modal, never a command option, so they never show in the channel,
 * the client's command history or the interaction's options. A modal must be
 * the first answer to the command. Storing one (or one the bot makes, such
 * as a webhook secret) either works, or says what failed without ever
 * repeating the value.
 */
import {
  LabelBuilder,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { VaultLockedError } from '../../vault/vault.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';
import { truncate } from '../format/text.ts';

export interface SecretModal {
  customId: string;
  title: string;
  /** The custom id of the one text input, read back on submit. */
  inputId: string;
  label: string;
  description: string;
  minLength: number;
  maxLength: number;
  placeholder?: string;
}

/**
 * The answer when the vault has no master key: the operator's to fix.
 * `what` continues "Secret storage is off on this bot, so": `a token cannot be saved`.
 */
function secretStorageOff(what: string): string {
  return (
    `Secret storage is off on this bot, so ${what}. The bot operator must set RECAP_MASTER_KEYS ` +
    '(generate a key with `npm run recap -- keys generate`) and restart the bot.'
  );
}

/** Refuses at once, before any form is shown, when the vault cannot store secrets; `what` as for secretStorageOff. */
export function requireSecretStorage(ctx: CommandContext, what: string): void {
  if (ctx.services.vault.locked) throw new UserFacingError(secretStorageOff(what));
}

/** Shows the form for one secret (call requireSecretStorage first). */
export async function openSecretModal(interaction: ChatInputCommandInteraction, modal: SecretModal): Promise<void> {
  const input = new TextInputBuilder()
    .setCustomId(modal.inputId)
    .setStyle(TextInputStyle.Short)
    .setMinLength(modal.minLength)
    .setMaxLength(modal.maxLength)
    .setRequired(true);
  if (modal.placeholder !== undefined) input.setPlaceholder(modal.placeholder);
  await interaction.showModal(
    new ModalBuilder()
      .setCustomId(modal.customId)
      .setTitle(truncate(modal.title, DiscordLimits.modalTitle))
      .addLabelComponents(new LabelBuilder().setLabel(modal.label).setDescription(modal.description).setTextInputComponent(input)),
  );
}

export interface StoreSecretText {
  /** Continues "Secret storage is off on this bot, so": `a token cannot be saved`. */
  locked: string;
  /** What failed, for the log and the bug report, never with the value: `storing the GitHub token failed`. */
  failed: string;
  /** A store error the member can act on, as the message to show; undefined for anything else. */
  explain?: (error: unknown) => string | undefined;
}

/**
 * Runs the write of a secret. A locked vault and the errors `explain` knows
 * become answers for the member; anything else is rethrown naming what
 * failed, with the original as the cause, so the value stays out of every
 * message.
 */
export async function storeSecret<T>(store: () => Promise<T>, text: StoreSecretText): Promise<T> {
  try {
    return await store();
  } catch (error) {
    if (error instanceof VaultLockedError) throw new UserFacingError(secretStorageOff(text.locked));
    const explained = text.explain?.(error);
    if (explained !== undefined) throw new UserFacingError(explained);
    throw new Error(text.failed, { cause: error });
  }
}

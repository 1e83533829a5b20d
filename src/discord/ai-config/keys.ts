import {
  LabelBuilder,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { GuildKeyError } from '../../llm/guild-keys.ts';
import { VaultLockedError } from '../../vault/vault.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';
import { inlineCode, truncate } from '../format/text.ts';
import { replyPrivately } from '../prompt-config/reply.ts';
import { deferOnce } from '../respond.ts';
import { requireAiAdmin } from './access.ts';
import { PROVIDER_NAME, keyModalId, parseKeyModalId } from './custom-ids.ts';

const KEY_INPUT_ID = 'key';
/** GuildKeys accepts 8 to 512 printable characters; the form says so up front. */
const MIN_LENGTH = 8;
const MAX_LENGTH = 512;

const LOCKED_MESSAGE =
  'Secret storage is off on this bot, so an API key cannot be saved. The bot operator must set RECAP_MASTER_KEYS ' +
  '(generate a key with `npm run recap -- keys generate`) and restart the bot.';

/** Which providers a key can be stored for, worked out by the command (see key-providers.ts). */
export type KeyProviderList = () => Promise<string[]>;

function providerList(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((name) => inlineCode(name)).join(', ');
}

/**
 * `/ai-config key-set provider`: the key is typed into a modal, never a
 * command option, so it never shows in the channel, the client's command
 * history or the interaction's options. The modal must be the first answer.
 */
export async function openKeyModal(interaction: ChatInputCommandInteraction, ctx: CommandContext, keyProviders: KeyProviderList): Promise<void> {
  requireAiAdmin(interaction);
  if (ctx.services.vault.locked) throw new UserFacingError(LOCKED_MESSAGE);
  const provider = interaction.options.getString('provider', true).trim().toLowerCase();
  const takingKeys = await keyProviders();
  if (!takingKeys.includes(provider)) {
    throw new UserFacingError(
      `${inlineCode(provider, 40)} does not take a server API key on this bot. Providers that do: ${providerList(takingKeys)}.`,
    );
  }
  const input = new TextInputBuilder()
    .setCustomId(KEY_INPUT_ID)
    .setStyle(TextInputStyle.Short)
    .setMinLength(MIN_LENGTH)
    .setMaxLength(MAX_LENGTH)
    .setRequired(true);
  const modal = new ModalBuilder()
    .setCustomId(keyModalId(provider))
    .setTitle(truncate(`API key for ${provider}`, DiscordLimits.modalTitle))
    .addLabelComponents(
      new LabelBuilder()
        .setLabel('API key')
        .setDescription("Stored encrypted and used only for this server's requests; never shown again.")
        .setTextInputComponent(input),
    );
  await interaction.showModal(modal);
}

export async function onKeySubmit(interaction: ModalSubmitInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  const provider = parseKeyModalId(interaction.customId);
  if (provider === undefined) throw new UserFacingError('This form is not known to this version of the bot. Nothing was saved.');
  const key = interaction.fields.getTextInputValue(KEY_INPUT_ID);
  await deferOnce(interaction, true);
  try {
    await ctx.services.llm.keys.setGuildKey(guildId, provider, key, { actorId: interaction.user.id, correlationId: ctx.correlationId });
  } catch (error) {
    if (error instanceof VaultLockedError) throw new UserFacingError(LOCKED_MESSAGE);
    // GuildKeys' messages say what is wrong without repeating the key.
    if (error instanceof GuildKeyError) throw new UserFacingError(`${sentence(error.message)} Nothing was saved.`);
    // Say what failed, never with what: the key stays out of every message.
    throw new Error(`storing the API key for ${provider} failed`, { cause: error });
  }
  ctx.logger.info({ provider }, 'server API key stored');
  await replyPrivately(interaction, {
    content: `Key saved for ${provider} (used only for this server's requests). Remove it with \`/ai-config key-remove\`.`,
  });
}

/** `/ai-config key-remove provider`: this server's calls fall back to the operator's key, if allowed. */
export async function runKeyRemove(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  const provider = interaction.options.getString('provider', true).trim().toLowerCase();
  if (!PROVIDER_NAME.test(provider)) {
    throw new UserFacingError(`${inlineCode(provider, 40)} is not a provider name (lowercase letters, digits and "-"). Nothing was removed.`);
  }
  await deferOnce(interaction, true);
  let removed: boolean;
  try {
    removed = await ctx.services.llm.keys.removeGuildKey(guildId, provider, { actorId: interaction.user.id, correlationId: ctx.correlationId });
  } catch (error) {
    if (error instanceof GuildKeyError) throw new UserFacingError(`${sentence(error.message)} Nothing was removed.`);
    throw error;
  }
  const settings = await ctx.services.llm.settings.get(guildId);
  await replyPrivately(interaction, {
    content: removed
      ? `Key removed for ${provider}. ${
          settings.allowOperatorKey
            ? "This server's calls to it now use the operator's key (counted against the daily budget)."
            : "This server's calls to it now have no key; allow the operator's key with `/ai-config operator-key` or set a new key."
        }`
      : `No key is stored for ${inlineCode(provider, 40)} on this server; nothing was removed.`,
  });
}

/** "unknown provider …" → "Unknown provider ….": GuildKeys' messages continue a sentence. */
function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

import type { ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import { GuildKeyError } from '../../llm/guild-keys.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { inlineCode } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { openSecretModal, requireSecretStorage, storeSecret } from '../shared/secret-modal.ts';
import { requireAiAdmin } from './access.ts';
import { PROVIDER_NAME, keyModalId, parseKeyModalId } from './custom-ids.ts';

const KEY_INPUT_ID = 'key';
/** GuildKeys accepts 8 to 512 printable characters; the form says so up front. */
const MIN_LENGTH = 8;
const MAX_LENGTH = 512;
const LOCKED = 'an API key cannot be saved';

/** Which providers a key can be stored for, worked out by the command (see key-providers.ts). */
export type KeyProviderList = () => Promise<string[]>;

function providerList(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((name) => inlineCode(name)).join(', ');
}

/** `/ai-config key-set provider`: the key is typed into a private form (see ../shared/secret-modal.ts). */
export async function openKeyModal(interaction: ChatInputCommandInteraction, ctx: CommandContext, keyProviders: KeyProviderList): Promise<void> {
  requireAiAdmin(interaction);
  requireSecretStorage(ctx, LOCKED);
  const provider = interaction.options.getString('provider', true).trim().toLowerCase();
  const takingKeys = await keyProviders();
  if (!takingKeys.includes(provider)) {
    throw new UserFacingError(
      `${inlineCode(provider, 40)} does not take a server API key on this bot. Providers that do: ${providerList(takingKeys)}.`,
    );
  }
  await openSecretModal(interaction, {
    customId: keyModalId(provider),
    title: `API key for ${provider}`,
    inputId: KEY_INPUT_ID,
    label: 'API key',
    description: "Stored encrypted and used only for this server's requests; never shown again.",
    minLength: MIN_LENGTH,
    maxLength: MAX_LENGTH,
  });
}

export async function onKeySubmit(interaction: ModalSubmitInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireAiAdmin(interaction);
  const provider = parseKeyModalId(interaction.customId);
  if (provider === undefined) throw new UserFacingError('This form is not known to this version of the bot. Nothing was saved.');
  const key = interaction.fields.getTextInputValue(KEY_INPUT_ID);
  await deferOnce(interaction, true);
  await storeSecret(() => ctx.services.llm.keys.setGuildKey(guildId, provider, key, { actorId: interaction.user.id, correlationId: ctx.correlationId }), {
    locked: LOCKED,
    failed: `storing the API key for ${provider} failed`,
    // GuildKeys' messages say what is wrong without repeating the key.
    explain: (error) => (error instanceof GuildKeyError ? `${sentence(error.message)} Nothing was saved.` : undefined),
  });
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

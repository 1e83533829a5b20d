import {
  LabelBuilder,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import { VaultLockedError } from '../../vault/vault.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { discordTime } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { requireGuildAdmin } from './access.ts';
import { customId } from './custom-ids.ts';
import { replyPrivately } from './reply.ts';

const TOKEN_INPUT_ID = 'token';
const MIN_LENGTH = 20;
const MAX_LENGTH = 255;

const LOCKED_MESSAGE =
  'Secret storage is off on this bot, so a token cannot be saved. The bot operator must set RECAP_MASTER_KEYS ' +
  '(generate a key with `npm run recap -- keys generate`) and restart the bot.';

/**
 * `/prompt-config token`: a token is typed into a modal, never a command
 * option, so it never shows in the channel, the client's command history or
 * the interaction's options. The modal must be the first answer.
 */
export async function openTokenModal(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  requireGuildAdmin(interaction);
  if (ctx.services.vault.locked) throw new UserFacingError(LOCKED_MESSAGE);
  const input = new TextInputBuilder()
    .setCustomId(TOKEN_INPUT_ID)
    .setStyle(TextInputStyle.Short)
    .setMinLength(MIN_LENGTH)
    .setMaxLength(MAX_LENGTH)
    .setRequired(true)
    .setPlaceholder('github_pat_… or ghp_…');
  const modal = new ModalBuilder()
    .setCustomId(customId('token'))
    .setTitle('GitHub token for the prompt repo')
    .addLabelComponents(
      new LabelBuilder()
        .setLabel('GitHub token (read access to the repository)')
        .setDescription('Fine-grained (Contents: read) or classic. Stored encrypted; never shown again.')
        .setTextInputComponent(input),
    );
  await interaction.showModal(modal);
}

/** Why a value cannot be a token, or undefined when its shape is plausible. Never repeats the value. */
function tokenShapeProblem(value: string): string | undefined {
  if (value.length < MIN_LENGTH || value.length > MAX_LENGTH) {
    return `That does not look like a GitHub token: it has ${value.length} characters, and tokens have ${MIN_LENGTH} to ${MAX_LENGTH}.`;
  }
  if (/\s/.test(value)) return 'That does not look like a GitHub token: it contains spaces or line breaks. Paste the token alone.';
  if (!/^[\x21-\x7e]+$/.test(value)) return 'That does not look like a GitHub token: it contains characters tokens never have.';
  return undefined;
}

function tokenKind(value: string): string {
  if (value.startsWith('github_pat_')) return 'fine-grained token';
  if (value.startsWith('ghp_')) return 'classic token';
  return 'token';
}

export async function onTokenSubmit(interaction: ModalSubmitInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const value = interaction.fields.getTextInputValue(TOKEN_INPUT_ID).trim();
  const problem = tokenShapeProblem(value);
  if (problem !== undefined) throw new UserFacingError(`${problem} Nothing was saved.`);
  await deferOnce(interaction, true);
  try {
    await ctx.services.vault.put(guildId, GITHUB_TOKEN_PURPOSE, value, interaction.user.id);
  } catch (error) {
    if (error instanceof VaultLockedError) throw new UserFacingError(LOCKED_MESSAGE);
    // Say what failed, never with what: the value stays out of every message.
    throw new Error('storing the GitHub token failed', { cause: error });
  }
  ctx.services.prompts.invalidateGuild(guildId);
  await recordAudit(ctx.services.db, {
    guildId,
    actorId: interaction.user.id,
    action: 'prompt-config.token.set',
    details: { kind: tokenKind(value) },
    correlationId: ctx.correlationId,
  });
  ctx.logger.info('GitHub token stored for the prompt repository');
  const meta = await ctx.services.vault.metadata(guildId, GITHUB_TOKEN_PURPOSE);
  const at = meta?.updatedAt ?? new Date(ctx.services.clock.now());
  await replyPrivately(interaction, {
    content: `Token saved (${tokenKind(value)}, encrypted, set at ${discordTime(at, 'f')}). Run /prompt-config refresh to read the repository with it.`,
  });
}

/** `/prompt-config token-remove`: forget the token; public repositories keep working. */
export async function runTokenRemove(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const removed = await ctx.services.vault.delete(guildId, GITHUB_TOKEN_PURPOSE);
  if (removed === 0) {
    await replyPrivately(interaction, { content: 'No GitHub token is stored for this server; nothing was removed.' });
    return;
  }
  ctx.services.prompts.invalidateGuild(guildId);
  await recordAudit(ctx.services.db, {
    guildId,
    actorId: interaction.user.id,
    action: 'prompt-config.token.remove',
    correlationId: ctx.correlationId,
  });
  await replyPrivately(interaction, {
    content: 'Token removed. If the repository is private, it can no longer be read, and the bundled prompts serve instead.',
  });
}

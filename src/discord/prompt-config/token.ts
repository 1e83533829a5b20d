import type { ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import { recordAudit } from '../../audit/audit-log.ts';
import { GITHUB_TOKEN_PURPOSE } from '../../prompts/prompt-config-store.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { discordTime } from '../format/text.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { openSecretModal, requireSecretStorage, storeSecret } from '../shared/secret-modal.ts';
import { requireGuildAdmin } from './access.ts';
import { customId } from './custom-ids.ts';

const TOKEN_INPUT_ID = 'token';
const MIN_LENGTH = 20;
const MAX_LENGTH = 255;
const LOCKED = 'a token cannot be saved';

/** `/prompt-config token`: the token is typed into a private form (see ../shared/secret-modal.ts). */
export async function openTokenModal(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  requireGuildAdmin(interaction);
  requireSecretStorage(ctx, LOCKED);
  await openSecretModal(interaction, {
    customId: customId('token'),
    title: 'GitHub token for the prompt repo',
    inputId: TOKEN_INPUT_ID,
    label: 'GitHub token (read access to the repository)',
    description: 'Fine-grained (Contents: read) or classic. Stored encrypted; never shown again.',
    minLength: MIN_LENGTH,
    maxLength: MAX_LENGTH,
    placeholder: 'github_pat_… or ghp_…',
  });
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
  await storeSecret(() => ctx.services.vault.put(guildId, GITHUB_TOKEN_PURPOSE, value, interaction.user.id), {
    locked: LOCKED,
    failed: 'storing the GitHub token failed',
  });
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

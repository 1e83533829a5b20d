/** `/recap-config api-key create|list|revoke`: the server's REST API keys (src/api/api-keys.ts). A new key is shown once, privately. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { ApiKeyLimitError, ApiKeyStore, API_SCOPES, type ApiScope } from '../../api/api-keys.ts';
import { recordAudit } from '../../audit/audit-log.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { adminCheck } from '../shared/access.ts';
import { replyPrivately } from '../shared/private-reply.ts';

export const recapConfigAdmin = adminCheck({ command: '/recap-config', subject: "this server's API keys and feeds" });

export async function runApiKeyCreate(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const name = interaction.options.getString('name', true).trim().slice(0, 100) || 'API key';
  const scopes = interaction.options.getString('scopes', true).split(/\s+/).filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0) throw new UserFacingError(`\`scopes\`: pick ${API_SCOPES.join(', ')} or both.`);
  let created;
  try {
    created = await new ApiKeyStore(ctx.services.db, () => ctx.services.clock.now()).create({ guildId, name, scopes, createdBy: interaction.user.id });
  } catch (error) {
    if (error instanceof ApiKeyLimitError) throw new UserFacingError(`This server already has the most API keys it may hold; revoke one with \`/recap-config api-key revoke\` first.`, { cause: error });
    throw error;
  }
  await recordAudit(ctx.services.db, { guildId, actorId: interaction.user.id, action: 'recap-config.api-key.create', details: { prefix: created.info.prefixId, name, scopes }, correlationId: ctx.correlationId });
  await replyPrivately(interaction, {
    content: [
      `API key **${escapeMarkdown(name)}** created (scopes: ${scopes.map((s) => `\`${s}\``).join(', ')}). Copy it now: **it is shown only here, once.**`,
      '```',
      created.key,
      '```',
      `It acts as you, with your permissions as they stand at each request: it reads only channels you can read, and stops working if you lose Manage Server. Use it as \`Authorization: Bearer <key>\`; revoke it with \`/recap-config api-key revoke key:${created.info.prefixId}\`.`,
    ].join('\n'),
  });
}

export async function runApiKeyList(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const keys = await new ApiKeyStore(ctx.services.db).list(guildId);
  if (keys.length === 0) return replyPrivately(interaction, { content: 'This server has no API keys. Create one with `/recap-config api-key create`.' });
  const line = (k: (typeof keys)[number]) =>
    `- \`${k.prefixId}\` **${escapeMarkdown(k.name)}** · ${k.scopes.join(', ')} · by <@${k.createdBy}> <t:${Math.floor(k.createdAt.getTime() / 1000)}:d>` +
    (k.revokedAt !== null ? ' · **revoked**' : k.lastUsedAt === null ? ' · never used' : ` · last used <t:${Math.floor(k.lastUsedAt.getTime() / 1000)}:R>`);
  await replyPrivately(interaction, { content: `API keys of this server (the secret part is never shown again):\n${keys.slice(0, 25).map(line).join('\n')}` });
}

export async function runApiKeyRevoke(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = recapConfigAdmin(interaction);
  const ref = interaction.options.getString('key', true);
  const revoked = await new ApiKeyStore(ctx.services.db, () => ctx.services.clock.now()).revoke(guildId, ref, interaction.user.id);
  if (!revoked) throw new UserFacingError('No active API key of this server has that id. `/recap-config api-key list` shows them.');
  await recordAudit(ctx.services.db, { guildId, actorId: interaction.user.id, action: 'recap-config.api-key.revoke', details: { ref: ref.trim().slice(0, 20) }, correlationId: ctx.correlationId });
  await replyPrivately(interaction, { content: 'API key revoked: requests with it are refused from now on.' });
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~|>#[\]()<@]/g, (c) => `\\${c}`);
}

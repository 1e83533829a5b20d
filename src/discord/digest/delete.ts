/** `/digest delete id`: the digest and its run history. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { deleteDigest, findDigest } from '../../digests/digest-store.ts';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope, requireManageable } from './access.ts';

export async function deleteDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const id = interaction.options.getString('id', true);
  const digest = requireManageable(guild, member, await findDigest(ctx.services.db, guild.id, id), id);
  await deleteDigest(ctx.services.db, guild.id, digest.id);
  ctx.logger.info({ digest: digest.id }, 'digest deleted');
  await replyPrivately(interaction, { content: `Digest \`${digest.id}\` deleted.` });
}

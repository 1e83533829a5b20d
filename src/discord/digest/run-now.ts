/** `/digest run-now id`: one run now, covering the messages since the last run; the next scheduled run starts from here. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { findDigest } from '../../digests/digest-store.ts';
import { enqueueRunNow } from '../../digests/scheduler.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope, requireManageable } from './access.ts';

export async function runDigestNowCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const id = interaction.options.getString('id', true);
  const digest = requireManageable(guild, member, await findDigest(ctx.services.db, guild.id, id), id);
  if (digest.paused) throw new UserFacingError(`Digest \`${digest.id}\` is paused; \`/digest resume id:${digest.id}\` first.`);
  const shardCount = ctx.services.digests?.shardCount ?? 1;
  const { created } = await enqueueRunNow(ctx.services.db, digest, new Date(ctx.services.clock.now()), shardCount);
  await replyPrivately(interaction, {
    content: created
      ? `Digest \`${digest.id}\` will run in a moment and post in <#${digest.destination_id}>; \`/digest show id:${digest.id}\` lists the run.`
      : `Digest \`${digest.id}\` is already running now.`,
  });
}

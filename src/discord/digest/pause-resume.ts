/** `/digest pause id` and `/digest resume id`. Resuming runs next at the schedule's next time, covering the window since the last run. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { findDigest, scheduleOf, setPaused } from '../../digests/digest-store.ts';
import { nextRunAfter } from '../../digests/schedule.ts';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope, requireManageable } from './access.ts';

export async function pauseDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const id = interaction.options.getString('id', true);
  const digest = requireManageable(guild, member, await findDigest(ctx.services.db, guild.id, id), id);
  await setPaused(ctx.services.db, digest.id, { paused: true, reason: `paused by ${member.displayName}` }, new Date(ctx.services.clock.now()));
  await replyPrivately(interaction, { content: `Digest \`${digest.id}\` is paused. \`/digest resume id:${digest.id}\` starts it again.` });
}

export async function resumeDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const id = interaction.options.getString('id', true);
  const digest = requireManageable(guild, member, await findDigest(ctx.services.db, guild.id, id), id);
  const now = new Date(ctx.services.clock.now());
  const next = nextRunAfter(scheduleOf(digest), now);
  await setPaused(ctx.services.db, digest.id, { paused: false, nextRunAt: next }, now);
  await replyPrivately(interaction, { content: `Digest \`${digest.id}\` resumed; next run <t:${Math.floor(next.getTime() / 1000)}:F>.` });
}

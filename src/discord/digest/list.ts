/** `/digest list`: this server's digests the member may manage, one line each. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { listDigests, scheduleOf, type DigestRow } from '../../digests/digest-store.ts';
import { describeSchedule } from '../../digests/schedule.ts';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope, mayManage } from './access.ts';

export function digestLine(d: DigestRow): string {
  const state = d.paused ? `paused${d.paused_reason === null ? '' : `: ${d.paused_reason}`}` : `next <t:${Math.floor(d.next_run_at.getTime() / 1000)}:R>`;
  return `\`${d.id}\` <#${d.source_id}> → <#${d.destination_id}>, ${describeSchedule(scheduleOf(d))} · ${state}`;
}

export async function listDigestsCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const mine = (await listDigests(ctx.services.db, guild.id)).filter((d) => mayManage(guild, member, d.source_id, d.destination_id));
  await replyPrivately(interaction, {
    content: mine.length === 0 ? 'No digests here that you can manage. Create one with `/digest create`.' : `Digests (${mine.length}):\n${mine.map(digestLine).join('\n')}`.slice(0, 2_000),
  });
}

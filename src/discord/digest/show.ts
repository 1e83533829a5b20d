/** `/digest show id`: a digest and its last runs (when, window, messages, outcome, the message posted). */
import type { ChatInputCommandInteraction } from 'discord.js';
import { findDigest, lastRuns, type DigestRunRow } from '../../digests/digest-store.ts';
import type { CommandContext } from '../command.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { digestScope, requireManageable } from './access.ts';
import { digestLine } from './list.ts';

const SHOWN_RUNS = 10;

function ts(d: Date, style = 'f'): string {
  return `<t:${Math.floor(d.getTime() / 1000)}:${style}>`;
}

export function runLine(run: DigestRunRow): string {
  const count = run.message_count === null ? '' : ` · ${run.message_count} message${run.message_count === 1 ? '' : 's'}`;
  const link = run.message_url === null ? '' : ` · ${run.message_url}`;
  const detail = run.detail === null ? '' : ` · ${run.detail.replace(/\s+/g, ' ').slice(0, 200)}`;
  return `${ts(run.started_at)} ${run.trigger === 'run-now' ? '(run-now) ' : ''}**${run.outcome}** · window ${ts(run.window_start)} – ${ts(run.window_end)}${count}${link}${detail}`;
}

export async function showDigestCommand(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const { guild, member } = digestScope(interaction);
  const id = interaction.options.getString('id', true);
  const digest = requireManageable(guild, member, await findDigest(ctx.services.db, guild.id, id), id);
  const runs = await lastRuns(ctx.services.db, digest.id, SHOWN_RUNS);
  const options = [digest.type && `type ${digest.type}`, digest.perspective && `perspective ${digest.perspective}`, digest.language && `language ${digest.language}`, digest.skip_if_quiet && 'skipped when quiet']
    .filter((o): o is string => typeof o === 'string');
  const lines = [
    digestLine(digest),
    ...(options.length === 0 ? [] : [options.join(' · ')]),
    `Created by <@${digest.created_by}> ${ts(digest.created_at, 'D')}`,
    '',
    runs.length === 0 ? 'No runs yet.' : `Last runs:\n${runs.map(runLine).join('\n')}`,
  ];
  await replyPrivately(interaction, { content: lines.join('\n').slice(0, 2_000) });
}

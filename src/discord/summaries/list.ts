/**
 * `/summaries list [channel] [from] [to] [page]`: the summaries of channels
 * the member can read now, newest first, a page at a time, each with where it
 * was posted and its prompt, model and cost.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { listSummaries, postLink, type HistoryEntry } from '../../summaries/history.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { EmbedColors } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedLines, discordTime, truncate } from '../format/text.ts';
import { summaryFooter } from '../output/summary-footer.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { readableSummaryChannels } from './readable.ts';
import { parseHistoryBound } from './window.ts';

export const PAGE_SIZE = 10;
export const MAX_PAGE = 100;

export async function runList(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  if (!interaction.inCachedGuild()) throw new UserFacingError('/summaries works in servers only.');
  const now = ctx.services.clock.now();
  const fromText = interaction.options.getString('from');
  const toText = interaction.options.getString('to');
  const from = fromText === null ? undefined : parseHistoryBound(fromText, 'from', now);
  const to = toText === null ? undefined : parseHistoryBound(toText, 'to', now);
  if (from !== undefined && to !== undefined && from >= to) throw new UserFacingError('`from` must be before `to`.');
  const page = interaction.options.getInteger('page') ?? 1;
  if (page < 1 || page > MAX_PAGE) throw new UserFacingError(`\`page\` must be between 1 and ${MAX_PAGE}.`);
  const channel = interaction.options.getChannel('channel');
  await deferOnce(interaction, true);

  const readable = await readableSummaryChannels(interaction.guild, interaction.user.id, ctx, channel?.id);
  if (channel !== null && !readable.has(channel.id)) throw new UserFacingError(`You can't read <#${channel.id}> now, so I won't list its summaries.`);
  const channelIds = channel === null ? [...readable] : [channel.id];
  const { entries, total } = await listSummaries(ctx.services.db, {
    guildId: interaction.guildId,
    channelIds,
    from,
    to,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (entries.length === 0) {
    const none = total === 0 ? 'No summaries of channels you can read' : `Page ${page} is past the last page (${pages})`;
    await replyPrivately(interaction, { content: `${none}${channel === null ? '' : ` in <#${channel.id}>`}${from || to ? ' in that window' : ''}.` });
    return;
  }
  const lines = entries.map((entry) => entryLines(interaction.guildId, entry));
  const description = boundedLines(lines, { max: DiscordLimits.embedDescription, more: (n) => `…and ${n} more on this page` }).text;
  const footer = `Page ${page} of ${pages} · ${total} summar${total === 1 ? 'y' : 'ies'} · /summaries show id:<id> shows one${page < pages ? ` · page:${page + 1} for more` : ''}`;
  await replyPrivately(interaction, {
    embeds: [{ title: channel === null ? 'Summaries you can read' : truncate(`Summaries of #${channel.name}`, DiscordLimits.embedTitle), description, footer: { text: footer }, color: EmbedColors.info }],
  });
}

/** Two lines: id, channel, when, type and where it was posted; then its footer. */
export function entryLines(guildId: string, entry: HistoryEntry): string {
  const where = entry.post === null ? 'shown privately' : `[posted](${postLink(guildId, entry.post)})`;
  const type = entry.options.type ?? 'summary';
  const footer = summaryFooter({ prompt: entry.prompt, provider: entry.provider, model: entry.model, messages: entry.messageCount, chunks: entry.chunks, costUsd: entry.costUsd, reused: false });
  return `\`${entry.id.slice(0, 8)}\` <#${entry.channelId}> · ${discordTime(entry.createdAt)} · ${type.replace(/[`*_~|<>@]/g, '')} · ${where}\n-# ${footer.replace(/[`*_~|<>@]/g, '')}`;
}

/**
 * `/summaries show id:<id>`: one stored summary, to the member alone, when
 * they can read its channel now. An id that is unknown and one of a channel
 * they cannot read get the same answer, so ids reveal nothing.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { renderCitations } from '../../summaries/citation-render.ts';
import { findGuildSummary, postLink } from '../../summaries/history.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { EmbedColors } from '../format/embed.ts';
import { discordTime, inlineCode } from '../format/text.ts';
import { discordCitationStyle } from '../output/citation-style.ts';
import { summaryFooter } from '../output/summary-footer.ts';
import { embedMessages } from '../output/summary-messages.ts';
import { deferOnce, respond } from '../respond.ts';
import { readableSummaryChannels } from './readable.ts';

export async function runShow(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  if (!interaction.inCachedGuild()) throw new UserFacingError('/summaries works in servers only.');
  const id = interaction.options.getString('id', true).trim();
  if (!/^[0-9a-fA-F-]{8,36}$/.test(id)) throw new UserFacingError(`${inlineCode(id, 40)} is not a summary id: use the 8 characters /summaries list shows, or the whole id.`);
  await deferOnce(interaction, true);
  const found = await findGuildSummary(ctx.services.db, interaction.guildId, id);
  if (found === 'ambiguous') throw new UserFacingError(`More than one summary starts with ${inlineCode(id, 40)}: give more of the id.`);
  const refused = new UserFacingError(`I found no summary ${inlineCode(id, 40)} of a channel you can read now.`);
  if (found === undefined) throw refused;
  const readable = await readableSummaryChannels(interaction.guild, interaction.user.id, ctx, found.channelId);
  if (!readable.has(found.channelId)) throw refused;

  const channel = interaction.guild.channels.cache.get(found.channelId);
  const type = (found.options.type ?? 'summary').replace(/_/g, ' ');
  const posted = found.post === null ? 'Shown privately when it was made.' : `Posted ${discordTime(found.post.postedAt)}: ${postLink(interaction.guildId, found.post)}`;
  const messages = embedMessages({
    title: `${type[0]!.toUpperCase()}${type.slice(1)} summary of #${channel?.name ?? found.channelId}`,
    url: found.post === null ? `https://discord.com/channels/${interaction.guildId}/${found.channelId}` : postLink(interaction.guildId, found.post),
    text: renderCitations(found.text, found.citations, discordCitationStyle),
    footer: `${found.id.slice(0, 8)} · made ${found.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${summaryFooter({
      prompt: found.prompt,
      provider: found.provider,
      model: found.model,
      messages: found.messageCount,
      chunks: found.chunks,
      costUsd: found.costUsd,
      reused: false,
    })}`,
    notes: found.warnings,
    color: EmbedColors.info,
    emptyText: '(The model returned an empty summary.)',
  });
  for (const [index, message] of messages.entries()) {
    await respond(interaction, { content: index === 0 ? `<#${found.channelId}> · ${posted}` : '', ...message, ephemeral: true });
  }
}

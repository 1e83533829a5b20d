/**
 * `/prompt-config category-map-set|category-map-remove|category-map-list`:
 * which prompt category a summary of a channel uses, by the Discord
 * category the channel sits in (read by the summary commands when the
 * member names no `category`).
 */
import { ChannelType, type ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { PROMPT_CATEGORY } from '../../prompts/routed-values.ts';
import { readCategoryMap, writeCategoryMapEntry } from '../history/category-map.ts';
import { routeChoice } from '../../summaries/summary-context.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { requireGuildAdmin } from './access.ts';

function discordCategory(interaction: ChatInputCommandInteraction): { id: string; name: string } {
  const channel = interaction.options.getChannel('discord_category', true);
  if (channel.type !== ChannelType.GuildCategory) throw new UserFacingError(`<#${channel.id}> is not a channel category.`);
  return { id: channel.id, name: channel.name ?? channel.id };
}

export async function runCategoryMapSet(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const category = discordCategory(interaction);
  const prompt = routeChoice(interaction.options.getString('prompt_category', true));
  if (prompt === undefined || !PROMPT_CATEGORY.test(prompt)) {
    throw new UserFacingError('`prompt_category` takes letters, digits, "-" and "_" only (for example `meeting` or `support`).');
  }
  await writeCategoryMapEntry(ctx.services.db, { guildId, discordCategoryId: category.id, promptCategory: prompt, actorId: interaction.user.id, now: new Date(ctx.services.clock.now()) });
  ctx.logger.info({ discordCategoryId: category.id, promptCategory: prompt }, 'category map entry set');
  await replyPrivately(interaction, { content: `Summaries of channels in **${category.name}** now use the \`${prompt}\` prompt category (unless a member picks another).` });
}

export async function runCategoryMapRemove(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const category = discordCategory(interaction);
  const before = await readCategoryMap(ctx.services.db, guildId);
  if (!before.has(category.id)) throw new UserFacingError(`**${category.name}** has no prompt category mapped.`);
  await writeCategoryMapEntry(ctx.services.db, { guildId, discordCategoryId: category.id, promptCategory: null, actorId: interaction.user.id, now: new Date(ctx.services.clock.now()) });
  ctx.logger.info({ discordCategoryId: category.id }, 'category map entry removed');
  await replyPrivately(interaction, { content: `**${category.name}** no longer has a prompt category mapped.` });
}

export async function runCategoryMapList(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const map = await readCategoryMap(ctx.services.db, guildId);
  if (map.size === 0) {
    await replyPrivately(interaction, { content: 'No Discord category is mapped to a prompt category; summaries use `discussion` unless a member picks one.' });
    return;
  }
  // Keys are category ids (written here) or names (written by hand); an id renders as the category's name.
  const lines = [...map].map(([key, prompt]) => `- ${/^\d{1,20}$/.test(key) ? `<#${key}>` : `**${key}**`} → \`${prompt}\``);
  await replyPrivately(interaction, { content: `Prompt categories by Discord category:\n${lines.join('\n')}` });
}

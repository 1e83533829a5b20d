/**
 * What a member's summary request is, read from a command: the same for
 * /summarize and for `/prompt-config test`, which shows the prompt
 * /summarize would use. The engine turns it into the prompt context
 * (`summaryContext`).
 */
import type { ChatInputCommandInteraction, CommandInteraction, GuildBasedChannel } from 'discord.js';
import { routeChoice, summaryChoices, type PromptRequest, type SummaryChoices } from '../../summaries/summary-context.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { mappedCategory, readCategoryMap } from '../history/category-map.ts';
import { categoryOf } from '../history/channel-access.ts';
import { snapshotInMemory } from './prompt-snapshot.ts';
import { PROMPT_CATEGORY, routedCategories, sanitizedCategoryName } from '../../prompts/routed-values.ts';

/** The `category`, `type` and `perspective` options the member gave, as route segments. */
export interface RoutingOptions {
  category: string | undefined;
  type: string | undefined;
  perspective: string | undefined;
}

export type SummaryRequest = PromptRequest &
  SummaryChoices & { guildId: string; guildName: string; channelId: string; channelName: string; userName: string; locale: string };

/** @throws UserFacingError naming the option that is not a route segment once normalised. */
export function routingOptions(interaction: ChatInputCommandInteraction): RoutingOptions {
  return {
    category: routingOption(interaction, 'category'),
    type: routingOption(interaction, 'type'),
    perspective: routingOption(interaction, 'perspective'),
  };
}

function routingOption(interaction: ChatInputCommandInteraction, name: string): string | undefined {
  const value = routeChoice(interaction.options.getString(name));
  if (value !== undefined && !PROMPT_CATEGORY.test(value)) {
    throw new UserFacingError(`\`${name}\` takes letters, digits, "-" and "_" only (for example \`brief\` or \`action_items\`).`);
  }
  return value;
}

/**
 * A summary of `channel` asked for by this member: the category is the
 * option, else the guild's mapping of the channel's Discord category, else
 * the default; `{user}` is the asker's display name in the server.
 */
export async function summaryRequest(
  interaction: CommandInteraction,
  channel: GuildBasedChannel,
  options: RoutingOptions,
  ctx: CommandContext,
): Promise<SummaryRequest> {
  const category = options.category ?? (await mappedCategoryOf(channel, ctx));
  return {
    guildId: channel.guild.id,
    guildName: channel.guild.name,
    channelId: channel.id,
    channelName: channel.name,
    ...summaryChoices({ ...options, category }),
    userName: askerName(interaction),
    // The summary is read by the whole server: its language, not the asker's client's.
    locale: interaction.guildLocale ?? interaction.locale,
  };
}

export function askerName(interaction: CommandInteraction): string {
  return interaction.inCachedGuild() ? interaction.member.displayName : interaction.user.displayName;
}

/**
 * Without a mapping, the Discord category's own name, reduced to a route
 * segment ("Team Meetings!" → `team-meetings`), when the guild's prompts
 * (or, with no repository, the bundled ones) route that category.
 */
async function routedCategoryName(channel: GuildBasedChannel, ctx: CommandContext): Promise<string | undefined> {
  const name = sanitizedCategoryName(categoryOf(channel)?.name);
  if (name === undefined) return undefined;
  const repo = await snapshotInMemory(ctx.services.prompts, channel.guild.id);
  return routedCategories(repo, ctx.memory.routedValues).includes(name) ? name : undefined;
}

/** A broken map must not block summaries: it counts as no mapping. */
async function mappedCategoryOf(channel: GuildBasedChannel, ctx: CommandContext): Promise<string | undefined> {
  try {
    const map = await readCategoryMap(ctx.services.db, channel.guild.id);
    return mappedCategory(map, categoryOf(channel)) ?? (await routedCategoryName(channel, ctx));
  } catch (error) {
    ctx.logger.warn({ err: error }, 'could not read the category map; using the default category');
    return undefined;
  }
}

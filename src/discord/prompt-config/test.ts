import type { AutocompleteInteraction, ChatInputCommandInteraction } from 'discord.js';
import type { ParsedRepo } from '../../prompts/parsed.ts';
import type { PromptContext } from '../../prompts/types.ts';
import type { CommandContext } from '../command.ts';
import { DiscordLimits } from '../format/limits.ts';
import { deferOnce } from '../respond.ts';
import { hasManageGuild, requireGuildAdmin } from './access.ts';
import { replyPrivately } from './reply.ts';
import { resolutionMessage } from './resolution-report.ts';
import { DEFAULT_VALUES, suggest, type RoutedVariable } from './routed-values.ts';

/** Until a guild maps its channel categories, a request without a category is a discussion. */
export const DEFAULT_CATEGORY = 'discussion';
/** What /summarize uses without a type option. */
export const DEFAULT_TYPE = 'brief';
export const DEFAULT_PERSPECTIVE = 'general';

/** `/prompt-config test`: the full resolution report for one request, as /summarize would make it. */
export async function runTest(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  await deferOnce(interaction, true);
  const channel = interaction.options.getChannel('channel') ?? interaction.channel;
  const context: PromptContext = {
    guild_id: guildId,
    ...(interaction.guild?.name ? { guild_name: interaction.guild.name } : {}),
    channel_id: channel?.id ?? interaction.channelId,
    ...(channel && 'name' in channel && channel.name ? { channel_name: channel.name } : {}),
    category: option(interaction, 'category') ?? DEFAULT_CATEGORY,
    type: option(interaction, 'type') ?? DEFAULT_TYPE,
    perspective: option(interaction, 'perspective') ?? DEFAULT_PERSPECTIVE,
    date: new Date(ctx.services.clock.now()).toISOString().slice(0, 10),
    locale: interaction.locale,
    user: interaction.user.username,
  };
  const resolved = await ctx.services.prompts.resolver.resolve(guildId, context);
  const message = resolutionMessage(resolved, context);
  await replyPrivately(interaction, { content: message.content, embeds: message.embeds, files: message.files });
}

function option(interaction: ChatInputCommandInteraction, name: string): string | undefined {
  const value = interaction.options.getString(name)?.trim().toLowerCase();
  return value === undefined || value === '' ? undefined : value;
}

/** Longest an autocomplete may wait for a snapshot that is not in memory (Discord allows 3 s in all). */
const SNAPSHOT_WAIT_MS = 1_200;

/**
 * Suggestions for category, type and perspective: what this guild's
 * repository routes, then the defaults, filtered by what the member typed.
 */
export async function autocompleteTest(
  interaction: AutocompleteInteraction,
  ctx: CommandContext,
  valuesOf: (repo: ParsedRepo, variable: RoutedVariable) => string[],
): Promise<void> {
  const focused = interaction.options.getFocused(true);
  const variable = focused.name as RoutedVariable;
  if (!(variable in DEFAULT_VALUES) || interaction.guildId === null || !hasManageGuild(interaction)) {
    await interaction.respond([]);
    return;
  }
  const repo = await guildSnapshot(interaction.guildId, ctx);
  const routed = repo === null ? [] : valuesOf(repo, variable);
  const choices = suggest(String(focused.value), routed, DEFAULT_VALUES[variable], DiscordLimits.autocompleteChoices);
  await interaction.respond(choices.map((value) => ({ name: value, value })));
}

async function guildSnapshot(guildId: string, ctx: CommandContext): Promise<ParsedRepo | null> {
  const { prompts } = ctx.services;
  const config = await prompts.configs.get(guildId);
  if (config === null) return null;
  const target = prompts.targetFor(config);
  const held = prompts.cache.peek(target.cacheKey);
  if (held !== undefined) return held.parsed;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), SNAPSHOT_WAIT_MS);
  });
  try {
    // A lookup that loses the race must not become an unhandled rejection.
    const lookup = prompts.cache.lookup(target).then(
      (l) => l.entry?.parsed ?? null,
      () => null,
    );
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

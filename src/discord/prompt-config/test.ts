import type { AutocompleteInteraction, ChatInputCommandInteraction, GuildBasedChannel } from 'discord.js';
import { summaryContext } from '../../summaries/summary-context.ts';
import type { ParsedRepo } from '../../prompts/parsed.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';
import { deferOnce } from '../respond.ts';
import { routingOptions, summaryRequest } from '../summary-request.ts';
import { hasManageGuild, requireGuildAdmin } from './access.ts';
import { replyPrivately } from './reply.ts';
import { resolutionMessage } from './resolution-report.ts';
import { DEFAULT_VALUES, suggest, type RoutedVariable } from './routed-values.ts';

/** `/prompt-config test`: the full resolution report for one request, as /summarize would make it. */
export async function runTest(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  const guildId = requireGuildAdmin(interaction);
  const routing = routingOptions(interaction);
  await deferOnce(interaction, true);
  const channel = await chosenChannel(interaction);
  const context = summaryContext(await summaryRequest(interaction, channel, routing, ctx), ctx.services.clock.now());
  const resolved = await ctx.services.prompts.resolver.resolve(guildId, context);
  const message = resolutionMessage(resolved, context);
  await replyPrivately(interaction, { content: message.content, embeds: message.embeds, files: message.files });
}

/** The `channel` option, else the channel the command ran in. */
async function chosenChannel(interaction: ChatInputCommandInteraction): Promise<GuildBasedChannel> {
  if (!interaction.inCachedGuild()) throw new UserFacingError('/prompt-config works in a server only, not in direct messages.');
  const id = interaction.options.getChannel('channel')?.id ?? interaction.channelId;
  const channel = interaction.guild.channels.cache.get(id) ?? (await interaction.guild.channels.fetch(id).catch(() => null));
  if (channel === null) throw new UserFacingError(`I can't see <#${id}>; pick a channel I can view.`);
  return channel;
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
  return (await ctx.services.prompts.heldSnapshot(guildId, { storeWaitMs: SNAPSHOT_WAIT_MS }))?.parsed ?? null;
}

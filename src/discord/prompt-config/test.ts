import type { AutocompleteInteraction, ChatInputCommandInteraction, GuildBasedChannel } from 'discord.js';
import { summaryContext } from '../../summaries/summary-context.ts';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { deferOnce } from '../respond.ts';
import { replyPrivately } from '../shared/private-reply.ts';
import { adminGuildOf } from '../shared/access.ts';
import { snapshotWithin } from '../shared/prompt-snapshot.ts';
import { answerRoutedChoices } from '../shared/routed-autocomplete.ts';
import { routingOptions, summaryRequest } from '../shared/summary-request.ts';
import { requireGuildAdmin } from './access.ts';
import { resolutionMessage } from './resolution-report.ts';

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
 * Members without Manage Server get none: the values describe the repository.
 */
export async function autocompleteTest(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void> {
  if (adminGuildOf(interaction) === undefined) {
    await interaction.respond([]);
    return;
  }
  await answerRoutedChoices(interaction, ctx, (guildId) => snapshotWithin(ctx.services.prompts, guildId, SNAPSHOT_WAIT_MS));
}

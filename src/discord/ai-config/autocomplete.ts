import type { AutocompleteInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { DiscordLimits } from '../format/limits.ts';
import { adminGuildOf } from '../shared/access.ts';
import type { KeyProviderList } from './keys.ts';
import { suggestOrders } from './provider-order.ts';

/**
 * Suggestions for `provider` (key-set, key-remove: providers that take a
 * server key) and `order` (providers: orders of the enabled providers).
 * Members without Manage Server get none: the lists describe the bot's setup.
 */
export async function autocompleteAiConfig(interaction: AutocompleteInteraction, ctx: CommandContext, keyProviders: KeyProviderList): Promise<void> {
  const guildId = adminGuildOf(interaction);
  const focused = interaction.options.getFocused(true);
  const typed = String(focused.value);
  if (guildId === undefined) {
    await interaction.respond([]);
    return;
  }
  const { llm } = ctx.services;
  if (focused.name === 'provider') {
    const needle = typed.trim().toLowerCase();
    const names = (await keyProviders()).filter((name) => name.includes(needle));
    names.sort((a, b) => Number(!a.startsWith(needle)) - Number(!b.startsWith(needle)));
    await interaction.respond(names.slice(0, DiscordLimits.autocompleteChoices).map((name) => ({ name, value: name })));
    return;
  }
  if (focused.name === 'order') {
    const current = (await llm.settings.get(guildId)).providerOrder;
    await interaction.respond(suggestOrders(typed, llm.enabledProviders(), current));
    return;
  }
  await interaction.respond([]);
}

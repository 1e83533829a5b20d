import type { AutocompleteInteraction, RepliableInteraction } from 'discord.js';
import { UserFacingError } from '../errors.ts';
import { hasManageGuild } from '../prompt-config/access.ts';

/**
 * Default member permissions only hide the command in the client; admins can
 * override them and a crafted interaction ignores them, so every handler
 * checks Manage Server again. Returns the guild id.
 */
export function requireAiAdmin(interaction: RepliableInteraction | AutocompleteInteraction): string {
  const guildId = interaction.guildId;
  if (guildId === null || !interaction.inGuild()) {
    throw new UserFacingError('/ai-config works in a server only, not in direct messages.');
  }
  if (!hasManageGuild(interaction)) {
    throw new UserFacingError("Only members with the **Manage Server** permission can change or inspect this server's AI settings.");
  }
  return guildId;
}

/** For autocomplete, which must answer rather than throw: the guild id, or undefined for anyone else. */
export function aiAdminGuild(interaction: AutocompleteInteraction): string | undefined {
  return interaction.guildId !== null && hasManageGuild(interaction) ? interaction.guildId : undefined;
}

import { PermissionFlagsBits, type AutocompleteInteraction, type RepliableInteraction } from 'discord.js';
import { UserFacingError } from '../errors.ts';

/**
 * Default member permissions only hide a command in the client; server admins
 * can override them per role or channel, and a crafted interaction ignores
 * them. So every handler checks the member's permissions again here.
 */
export function requireGuildAdmin(interaction: RepliableInteraction | AutocompleteInteraction): string {
  const guildId = interaction.guildId;
  if (guildId === null || !interaction.inGuild()) {
    throw new UserFacingError('/prompt-config works in a server only, not in direct messages.');
  }
  if (!hasManageGuild(interaction)) {
    throw new UserFacingError('Only members with the **Manage Server** permission can change or inspect the prompt repository.');
  }
  return guildId;
}

export function hasManageGuild(interaction: RepliableInteraction | AutocompleteInteraction): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild, true) === true;
}

import {
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type RepliableInteraction,
} from 'discord.js';
import { UserFacingError } from '../errors.ts';

/** What an admin command calls itself and what it manages, for its refusals. */
export interface AdminScope {
  /** `/prompt-config` */
  command: string;
  /** Ends "Only members with … can change or inspect": `the prompt repository`. */
  subject: string;
}

export type AdminCheck = (interaction: RepliableInteraction | AutocompleteInteraction) => string;

/**
 * Default member permissions only hide a command in the client; server admins
 * can override them per role or channel, and a crafted interaction ignores
 * them. So every handler of an admin command checks Manage Server again with
 * the check made here, which returns the guild id.
 */
export function adminCheck(scope: AdminScope): AdminCheck {
  return (interaction) => {
    const guildId = interaction.guildId;
    if (guildId === null || !interaction.inGuild()) {
      throw new UserFacingError(`${scope.command} works in a server only, not in direct messages.`);
    }
    if (!hasManageGuild(interaction)) {
      throw new UserFacingError(`Only members with the **Manage Server** permission can change or inspect ${scope.subject}.`);
    }
    return guildId;
  };
}

function hasManageGuild(interaction: RepliableInteraction | AutocompleteInteraction): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild, true) === true;
}

/** For autocomplete, which must answer rather than throw: the guild id for a Manage Server member, else undefined. */
export function adminGuildOf(interaction: AutocompleteInteraction): string | undefined {
  return interaction.guildId !== null && hasManageGuild(interaction) ? interaction.guildId : undefined;
}

/** The registered shape every admin command starts from: shown to Manage Server members by default, in servers only. */
export function adminCommandBuilder(name: string, description: string): SlashCommandBuilder {
  return new SlashCommandBuilder()
    .setName(name)
    .setDescription(description)
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild);
}

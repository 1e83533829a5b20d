import type { RepliableInteraction } from 'discord.js';
import { respond } from '../respond.ts';

type RespondOptions = Parameters<typeof respond>[1];

/**
 * The answers of the admin commands: always ephemeral (repository names,
 * settings and problems are the admins' business) and mentioning nobody,
 * whatever text from GitHub or a provider they carry.
 */
export function replyPrivately(interaction: RepliableInteraction, options: Omit<RespondOptions, 'ephemeral' | 'allowedMentions'>): Promise<void> {
  return respond(interaction, { ...options, ephemeral: true, allowedMentions: { parse: [] } } as RespondOptions);
}

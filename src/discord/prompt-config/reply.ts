import type { RepliableInteraction } from 'discord.js';
import { respond } from '../respond.ts';

type RespondOptions = Parameters<typeof respond>[1];

/**
 * Every /prompt-config answer is ephemeral (repository names and problems
 * are the admins' business) and mentions nobody, whatever text from GitHub
 * it carries.
 */
export function replyPrivately(interaction: RepliableInteraction, options: Omit<RespondOptions, 'ephemeral' | 'allowedMentions'>): Promise<void> {
  return respond(interaction, { ...options, ephemeral: true, allowedMentions: { parse: [] } } as RespondOptions);
}

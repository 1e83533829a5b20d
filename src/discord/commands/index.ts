import type { SlashCommand } from '../command.ts';

/** Every slash command of the bot; one file each in this folder. */
export const commands: readonly SlashCommand[] = [];

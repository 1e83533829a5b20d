import type { SlashCommand } from '../command.ts';
import { aiConfigCommand } from './ai-config.ts';
import { askCommand } from './ask.ts';
import { promptConfigCommand } from './prompt-config.ts';
import { summarizeCommand } from './summarize.ts';

/** Every slash command of the bot; one file each in this folder. */
export const commands: readonly SlashCommand[] = [promptConfigCommand, summarizeCommand, askCommand, aiConfigCommand];

import type { BotCommand } from '../command.ts';
import { aiConfigCommand } from './ai-config.ts';
import { askCommand } from './ask.ts';
import { digestCommand } from './digest.ts';
import { promptConfigCommand } from './prompt-config.ts';
import { summarizeCommand } from './summarize.ts';
import { summariesCommand } from './summaries.ts';
import { summarizeFromHereCommand } from './summarize-from-here.ts';
import { summarizeThreadCommand } from './summarize-thread.ts';

/** Every command of the bot (slash commands, then message context menus); one file each in this folder. */
export const commands: readonly BotCommand[] = [promptConfigCommand, summarizeCommand, askCommand, aiConfigCommand, summarizeFromHereCommand, summarizeThreadCommand, digestCommand, summariesCommand];

import type { CliCommand } from '../command.ts';
import { commandsCommand } from './commands.ts';
import { keysCommand } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { promptsResolveCommand } from './prompts-resolve.ts';
import { promptsValidateCommand } from './prompts-validate.ts';
import { summarizeCommand } from './summarize.ts';

/** Every subcommand of `npm run recap`; one file each in this folder. */
export const commands: readonly CliCommand[] = [summarizeCommand, migrateCommand, keysCommand, promptsValidateCommand, promptsResolveCommand, commandsCommand];

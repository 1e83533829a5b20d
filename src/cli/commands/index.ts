import type { CliCommand } from '../command.ts';
import { commandsCommand } from './commands.ts';
import { keysCommand } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { promptsResolveCommand } from './prompts-resolve.ts';
import { promptsValidateCommand } from './prompts-validate.ts';

/** Every subcommand of `npm run recap`; one file each in this folder. */
export const commands: readonly CliCommand[] = [migrateCommand, keysCommand, promptsValidateCommand, promptsResolveCommand, commandsCommand];

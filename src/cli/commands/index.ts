import type { CliCommand } from '../command.ts';

/**
 * One line of `recap --help`. The command's module, and everything it
 * imports (database drivers, discord.js, the engine), loads only when that
 * command runs, so the help and each command start without the others' cost.
 */
export interface CommandListing {
  /** `prompts-validate` is also reached as `prompts validate`; its group is `prompts`. */
  name: string;
  summary: string;
  load(): Promise<CliCommand>;
}

/** Every subcommand of `recap`; one file each in this folder. */
export const commands: readonly CommandListing[] = [
  { name: 'summarize', summary: 'summarize a DiscordChatExporter JSON export', load: async () => (await import('./summarize.ts')).summarizeCommand },
  { name: 'migrate', summary: 'apply pending database migrations (or list them)', load: async () => (await import('./migrate.ts')).migrateCommand },
  { name: 'keys', summary: 'generate master keys and rotate stored secrets to the current key', load: async () => (await import('./keys.ts')).keysCommand },
  {
    name: 'prompts-validate',
    summary: 'validate a prompt repository folder (PATH, schema-version, prompt files)',
    load: async () => (await import('./prompts-validate.ts')).promptsValidateCommand,
  },
  {
    name: 'prompts-resolve',
    summary: 'show which prompt a request resolves to, and render it',
    load: async () => (await import('./prompts-resolve.ts')).promptsResolveCommand,
  },
  { name: 'commands', summary: "register or clear the bot's slash commands with Discord", load: async () => (await import('./commands.ts')).commandsCommand },
];

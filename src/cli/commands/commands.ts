import { commands as slashCommands } from '../../discord/commands/index.ts';
import { applicationIdFor, clearCommands, registerCommands } from '../../discord/register.ts';
import { parseFlags } from '../args.ts';
import { errorLine, UsageError, type CliCommand } from '../command.ts';
import { loadCliConfig } from '../cli-config.ts';

export const commandsCommand: CliCommand = {
  name: 'commands',
  usage: `Usage: recap commands <register|clear> [--guild <id>] [--global]

  register   publish the slash commands (bulk overwrite)
  clear      remove them

Uses DISCORD_TOKEN. Registers to DISCORD_DEV_GUILD_ID (instant) when set or
with --guild, else globally (Discord may take up to an hour to show them).
--global ignores DISCORD_DEV_GUILD_ID.`,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv;
    if (sub !== 'register' && sub !== 'clear') {
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
    const { values } = parseFlags(rest, { guild: { type: 'string' }, global: { type: 'boolean' } });
    const config = loadCliConfig(ctx);
    if (config.discord.token === undefined) {
      ctx.stderr.write(errorLine('DISCORD_TOKEN is not set; it is needed to talk to Discord'));
      return 1;
    }
    const token = config.discord.token.reveal();
    const guildId = values.global === true ? undefined : (values.guild ?? config.discord.devGuildId);
    const target = {
      token,
      applicationId: await applicationIdFor(token, config.discord.apiUrl),
      ...(guildId === undefined ? {} : { guildId }),
      ...(config.discord.apiUrl === undefined ? {} : { apiUrl: config.discord.apiUrl }),
    };
    const scope = guildId === undefined ? 'globally' : `in guild ${guildId}`;
    if (sub === 'register') {
      const count = await registerCommands(target, slashCommands);
      ctx.stdout.write(`registered ${count} command(s) ${scope}\n`);
    } else {
      await clearCommands(target);
      ctx.stdout.write(`cleared the commands ${scope}\n`);
    }
    return 0;
  },
};

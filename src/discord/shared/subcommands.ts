import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from '../command.ts';
import { UserFacingError } from '../errors.ts';

export type SubcommandHandler = (interaction: ChatInputCommandInteraction, ctx: CommandContext) => Promise<void>;

/**
 * Runs the handler of the subcommand the member chose. One registered by an
 * older or newer version of the bot has none here and is refused by name.
 */
export async function runSubcommand(
  command: string,
  handlers: Readonly<Record<string, SubcommandHandler>>,
  interaction: ChatInputCommandInteraction,
  ctx: CommandContext,
  /** With subcommand groups: `group sub`. */
  sub: string = interaction.options.getSubcommand(true),
): Promise<void> {
  const handler = Object.hasOwn(handlers, sub) ? handlers[sub] : undefined;
  if (handler === undefined) throw new UserFacingError(`/${command} ${sub} is not known to this version of the bot.`);
  await handler(interaction, ctx);
}

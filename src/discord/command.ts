import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
  StringSelectMenuInteraction,
} from 'discord.js';
import type { Logger } from '../log/logger.ts';
import type { InteractionMemory } from './memory.ts';
import type { BotServices } from './services.ts';

export type ComponentInteraction = ButtonInteraction | ModalSubmitInteraction | StringSelectMenuInteraction;

/** What a handler gets besides the interaction: the app's services, the bot's memory and a log line prefix. */
export interface CommandContext {
  services: BotServices;
  /** State kept between interactions (pending confirmations, caches): a command module keeps none of its own. */
  memory: InteractionMemory;
  /** Shown to the member with any failure and present on every log line of this interaction. */
  correlationId: string;
  logger: Logger;
}

/**
 * One slash command: one file under src/discord/commands/ exporting its
 * definition and handlers, as the discord.js guide lays them out.
 */
export interface SlashCommand {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: CommandContext): Promise<void>;
  /**
   * Buttons, selects and modals whose custom id starts with `<command name>:`
   * come back here (e.g. `prompt-config:remove-confirm:<nonce>`).
   */
  handleComponent?(interaction: ComponentInteraction, ctx: CommandContext): Promise<void>;
}

/**
 * One message context-menu command ("Apps" on a message): one file under
 * src/discord/commands/ like a slash command; the member's message arrives
 * as `interaction.targetMessage`.
 */
export interface MessageMenuCommand {
  data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  executeOnMessage(interaction: MessageContextMenuCommandInteraction, ctx: CommandContext): Promise<void>;
}

/** Everything the bot registers with Discord. */
export type BotCommand = SlashCommand | MessageMenuCommand;

export function isMessageMenuCommand(command: BotCommand): command is MessageMenuCommand {
  return 'executeOnMessage' in command;
}

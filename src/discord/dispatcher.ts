import { randomBytes } from 'node:crypto';
import { MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import { CONNECTION_LOST_MESSAGE, isConnectionLost } from '../db/connection-errors.ts';
import type { Logger } from '../log/logger.ts';
import { isMessageMenuCommand, type BotCommand, type CommandContext, type MessageMenuCommand, type SlashCommand } from './command.ts';
import { GENERIC_FAILURE, UserFacingError } from './errors.ts';
import { createInteractionMemory } from './memory.ts';
import type { DiscordMetrics, InteractionKind, InteractionOutcome } from './metrics.ts';
import { deferOnce, respond } from './respond.ts';
import type { BotServices } from './services.ts';

export interface DispatcherOptions {
  commands: readonly BotCommand[];
  services: BotServices;
  logger: Logger;
  /**
   * Discord drops an interaction not acknowledged within 3 s. A handler that
   * has not answered by then is deferred here, so no member ever sees
   * "The application did not respond".
   */
  safetyDeferMs?: number;
  /** Counts and times every interaction by command, kind and outcome. */
  metrics?: DiscordMetrics;
}

export interface Dispatcher {
  handle(interaction: Interaction): Promise<void>;
  /** Interactions being handled right now. */
  readonly inFlight: number;
  /** Stop taking new work (they get a short "restarting" answer) and wait for in-flight work. */
  drain(timeoutMs: number): Promise<void>;
}

export function newCorrelationId(): string {
  return randomBytes(4).toString('hex');
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const byName = new Map(options.commands.filter((c): c is SlashCommand => !isMessageMenuCommand(c)).map((c) => [c.data.name, c]));
  const messageMenus = new Map(options.commands.filter((c): c is MessageMenuCommand => isMessageMenuCommand(c)).map((c) => [c.data.name, c]));
  // One per bot: what its handlers keep between interactions.
  const memory = createInteractionMemory();
  const running = new Set<Promise<void>>();
  let draining = false;

  const fail = async (interaction: RepliableInteraction, ctx: CommandContext, thrown: unknown): Promise<'refused' | 'failed'> => {
    // A write that lost its database connection is not repeated for the member (it may have happened): they decide.
    const error = !(thrown instanceof UserFacingError) && isConnectionLost(thrown) ? new UserFacingError(CONNECTION_LOST_MESSAGE, { cause: thrown }) : thrown;
    const known = error instanceof UserFacingError;
    if (known) ctx.logger.info({ reason: error.message }, 'interaction refused');
    else ctx.logger.error({ err: error }, 'interaction failed');
    const text = `${known ? error.message : GENERIC_FAILURE} (ref \`${ctx.correlationId}\`)`;
    try {
      await respond(interaction, { content: text, ephemeral: true, embeds: [], components: [] });
    } catch (replyError) {
      ctx.logger.warn({ err: replyError }, 'could not tell the member about the failure');
    }
    return known ? 'refused' : 'failed';
  };

  const run = async (interaction: Interaction, correlationId: string, outcome: { value: InteractionOutcome }): Promise<void> => {
    const logger = options.logger.child({
      correlationId,
      guildId: interaction.guildId ?? undefined,
      userId: interaction.user.id,
      ...(interaction.isCommand() || interaction.isAutocomplete() ? { command: interaction.commandName } : {}),
    });
    const ctx: CommandContext = { services: options.services, memory, correlationId, logger };

    if (interaction.isAutocomplete()) {
      const command = byName.get(interaction.commandName);
      try {
        if (command?.autocomplete === undefined) await interaction.respond([]);
        else await command.autocomplete(interaction, ctx);
      } catch (error) {
        logger.warn({ err: error }, 'autocomplete failed');
        outcome.value = 'failed';
        if (!interaction.responded) await interaction.respond([]).catch(() => undefined);
      }
      return;
    }
    if (!interaction.isRepliable()) return;
    if (draining) {
      outcome.value = 'draining';
      await interaction
        .reply({ content: 'The bot is restarting; please try again in a moment.', flags: MessageFlags.Ephemeral })
        .catch(() => undefined);
      return;
    }

    let handler: (() => Promise<void>) | undefined;
    if (interaction.isChatInputCommand()) {
      const command = byName.get(interaction.commandName);
      if (command !== undefined) handler = () => command.execute(interaction, ctx);
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = messageMenus.get(interaction.commandName);
      if (command !== undefined) handler = () => command.executeOnMessage(interaction, ctx);
    } else if (interaction.isButton() || interaction.isModalSubmit() || interaction.isStringSelectMenu()) {
      const prefix = interaction.customId.split(':', 1)[0] ?? '';
      const command = byName.get(prefix);
      if (command?.handleComponent !== undefined) handler = () => command.handleComponent!(interaction, ctx);
    }
    if (handler === undefined) {
      outcome.value = 'unknown';
      await fail(interaction, ctx, new UserFacingError('This command or button is not known to this version of the bot.'));
      return;
    }

    const safety = setTimeout(() => {
      // Modals must be the first answer, so never defer a component that might open one.
      if (interaction.isChatInputCommand() || interaction.isMessageContextMenuCommand() || interaction.isModalSubmit()) {
        deferOnce(interaction, true).catch((error: unknown) => logger.warn({ err: error }, 'safety defer failed'));
      }
    }, options.safetyDeferMs ?? 2_200);
    try {
      await handler();
    } catch (error) {
      outcome.value = await fail(interaction, ctx, error);
    } finally {
      clearTimeout(safety);
    }
  };

  /** Runs one interaction and records it in the metrics. */
  const measured = async (interaction: Interaction, correlationId: string): Promise<void> => {
    const started = performance.now();
    const outcome = { value: 'ok' as InteractionOutcome };
    try {
      await run(interaction, correlationId, outcome);
    } catch (error) {
      outcome.value = 'failed';
      throw error;
    } finally {
      const kind = kindOf(interaction);
      if (kind !== undefined) {
        options.metrics?.interaction({ kind, command: commandNameOf(interaction), outcome: outcome.value, seconds: (performance.now() - started) / 1000 });
      }
    }
  };

  return {
    get inFlight() {
      return running.size;
    },
    handle(interaction) {
      const correlationId = newCorrelationId();
      // Errors that escape to the process are logged with this interaction's reference id.
      const scope = options.services.correlation;
      const task = (scope === undefined ? measured(interaction, correlationId) : scope.run(correlationId, () => measured(interaction, correlationId))).catch((error: unknown) => {
        options.logger.error({ err: error }, 'interaction dispatch failed');
      });
      running.add(task);
      void task.finally(() => running.delete(task));
      return task;
    },
    async drain(timeoutMs) {
      draining = true;
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...running]), deadline]);
    },
  };
}

function kindOf(interaction: Interaction): InteractionKind | undefined {
  if (interaction.isChatInputCommand() || interaction.isMessageContextMenuCommand()) return 'command';
  if (interaction.isAutocomplete()) return 'autocomplete';
  if (interaction.isButton() || interaction.isModalSubmit() || interaction.isStringSelectMenu()) return 'component';
  return undefined;
}

/** The command an interaction belongs to (a component's custom id starts with it); metrics map unknown names to `unknown`. */
function commandNameOf(interaction: Interaction): string {
  if (interaction.isCommand() || interaction.isAutocomplete()) return interaction.commandName;
  if (interaction.isMessageComponent() || interaction.isModalSubmit()) return interaction.customId.split(':', 1)[0] ?? '';
  return '';
}

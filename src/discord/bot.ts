import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import type { Secret } from '../config/secret.ts';
import type { Logger } from '../log/logger.ts';
import type { BotCommand } from './command.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import type { DiscordMetrics } from './metrics.ts';
import { registerCommands } from './register.ts';
import type { BotServices } from './services.ts';

export interface BotOptions {
  token: Secret;
  /** REST base (`…/api`); tests point it at the Discord emulator. */
  apiUrl?: string;
  devGuildId?: string;
  registerCommands: boolean;
  commands: readonly BotCommand[];
  services: BotServices;
  logger: Logger;
  /** Extra listeners (mentions for chat) attached before login. */
  onClient?: (client: Client, dispatcher: Dispatcher) => void;
  shards?: number | number[] | 'auto';
  shardCount?: number;
  metrics?: DiscordMetrics;
}

export interface Bot {
  client: Client;
  dispatcher: Dispatcher;
  /** Finishes or cleanly fails in-flight interactions, then disconnects. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The intents the bot needs; Message Content is privileged and must be enabled for the application. */
const BOT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

export async function startBot(options: BotOptions): Promise<Bot> {
  const { logger } = options;
  const client = new Client({
    intents: BOT_INTENTS,
    ...(options.apiUrl === undefined ? {} : { rest: { api: options.apiUrl } }),
    ...(options.shards === undefined ? {} : { shards: options.shards, shardCount: options.shardCount }),
  });
  const dispatcher = createDispatcher({ commands: options.commands, services: options.services, logger, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) });
  // A rejected async listener becomes an `error` event; unhandled, it would end the process.
  client.on(Events.Error, (error) => logger.error({ err: error }, 'Discord client error'));
  client.on(Events.ShardError, (error, shardId) => logger.warn({ err: error, shardId }, 'Discord gateway connection error'));
  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    void dispatcher.handle(interaction);
  });
  options.onClient?.(client, dispatcher);

  // Ready can fire before login() resolves: listen first.
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(options.token.reveal());
  await ready;
  const applicationId = client.application?.id ?? client.user?.id;
  logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'connected to Discord');

  if (options.registerCommands && applicationId !== undefined) {
    try {
      const count = await registerCommands(
        {
          token: options.token.reveal(),
          applicationId,
          ...(options.devGuildId === undefined ? {} : { guildId: options.devGuildId }),
          ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }),
        },
        options.commands,
      );
      logger.info(
        { count, scope: options.devGuildId === undefined ? 'global (may take up to an hour to appear)' : `guild ${options.devGuildId}` },
        'slash commands registered',
      );
    } catch (error) {
      logger.error({ err: error }, 'could not register slash commands; run `npm run recap -- commands register`');
    }
  }

  return {
    client,
    dispatcher,
    async stop(timeoutMs = 10_000) {
      await dispatcher.drain(timeoutMs);
      await client.destroy();
    },
  };
}

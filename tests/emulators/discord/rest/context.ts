/** What REST routes share: the world, publishing, registries and settings. */
import type { CommandRegistry } from '../commands.ts';
import { DiscordApiFailure, Failures, invalidFormBody } from '../errors.ts';
import type { InteractionRegistry } from '../interaction-handle.ts';
import { isRecord } from '../json-input.ts';
import type { MessageFactory } from '../message-factory.ts';
import { hasPermission } from '../permissions.ts';
import type { GatewayPublisher } from '../publisher.ts';
import type { RouteContext } from '../router.ts';
import type { DiscordState } from '../state.ts';
import type { ApiMessage, JsonObject, RecordedFile, StoredChannel } from '../model.ts';

export interface EmulatorSettings {
  applicationId: string;
  applicationName: string;
  gatewayUrl: () => string;
  recommendedShards: number;
  maxConcurrency: number;
  sessionStartLimit: number;
  /** Per-file upload limit (Discord: 10 MiB without boosts). */
  attachmentSizeLimit: number;
  enabledPrivilegedIntents: number;
}

export interface RestDeps {
  state: DiscordState;
  messages: MessageFactory;
  publish: GatewayPublisher;
  commands: CommandRegistry;
  interactions: InteractionRegistry;
  settings: EmulatorSettings;
  /** Called for every message the bot creates, whichever route created it. */
  botMessageSent: (message: ApiMessage, files: RecordedFile[]) => void;
}

export function channelOr404(state: DiscordState, id: string | undefined): StoredChannel {
  const channel = id === undefined ? undefined : state.channels.get(id);
  if (!channel) throw Failures.unknownChannel();
  return channel;
}

/** The bot must see the channel (50001) and hold `needed` there (50013). */
export function requireBotPermission(state: DiscordState, channel: StoredChannel, needed: bigint, viewBit: bigint): void {
  const bits = state.permissionsIn(channel.id, state.bot.id);
  if (!hasPermission(bits, viewBit)) throw Failures.missingAccess();
  if (!hasPermission(bits, needed)) throw Failures.missingPermissions();
}

export function objectBody(ctx: RouteContext): JsonObject {
  if (ctx.body === undefined) return {};
  if (!isRecord(ctx.body)) throw invalidFormBody([{ path: [], code: 'MODEL_TYPE_CONVERT', message: 'Only dictionaries may be used in a ModelType' }]);
  return ctx.body;
}

export function checkFileSizes(files: readonly RecordedFile[], limit: number): void {
  if (files.some((f) => f.size > limit)) throw Failures.payloadTooLarge();
}

export function param(ctx: RouteContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new DiscordApiFailure(500, 0, `Route lacks :${name}`);
  return value;
}

export function snowflakeQuery(ctx: RouteContext, name: string): string | undefined {
  const value = ctx.query.get(name);
  if (value === null) return undefined;
  if (!/^\d{1,20}$/.test(value)) {
    throw invalidFormBody([{ path: [name], code: 'NUMBER_TYPE_COERCE', message: `Value "${value}" is not snowflake.` }]);
  }
  return value;
}

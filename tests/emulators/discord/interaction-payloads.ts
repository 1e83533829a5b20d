/**
 * Builds INTERACTION_CREATE payloads the way Discord does for a member's click or command,
 * refusing what a member could not do in the client (unknown command, missing button, no access).
 */
import { randomBytes } from 'node:crypto';
import type { CommandRegistry } from './commands.ts';
import { CallbackType, type InteractionHandle, type InteractionKind } from './interaction-handle.ts';
import { isRecord, recordArray } from './json-input.ts';
import { Permission, hasPermission } from './permissions.ts';
import { apiChannel, apiMember, apiRole, apiUser } from './serialize.ts';
import type { DiscordState } from './state.ts';
import type { ApiMessage, JsonObject, StoredChannel } from './model.ts';

export type OptionValue = string | number | boolean;

interface InteractionCommon {
  /** Where the member acts; defaults to the source interaction's or message's channel. */
  channelId?: string;
  /** Only checked against the channel's guild when given. */
  guildId?: string;
  /** A DM with the bot instead of a guild channel. */
  dm?: boolean;
  userId: string;
  locale?: string;
}

export interface CommandInteractionSpec extends InteractionCommon {
  type: 'command';
  name: string;
  group?: string;
  subcommand?: string;
  /** By name (typed from the registered command), or raw API options. */
  options?: Record<string, OptionValue> | JsonObject[];
  /** Context-menu commands target a user or message id. */
  commandType?: 'chat-input' | 'user' | 'message';
  targetId?: string;
}

export interface AutocompleteInteractionSpec extends InteractionCommon {
  type: 'autocomplete';
  name: string;
  group?: string;
  subcommand?: string;
  options?: Record<string, OptionValue>;
  /** The option being typed; its value is sent as the raw typed string. */
  focused: string;
}

/** A message id (in `channelId`), a message object, or an interaction whose original message it is. */
export type MessageRef = string | ApiMessage | InteractionHandle;

export interface ButtonInteractionSpec extends InteractionCommon {
  type: 'button';
  customId: string;
  message: MessageRef;
}

export interface SelectInteractionSpec extends InteractionCommon {
  type: 'select';
  customId: string;
  values: string[];
  message: MessageRef;
}

export interface ModalSubmitInteractionSpec extends InteractionCommon {
  type: 'modal-submit';
  /** The interaction that showed the modal; its modal's structure and custom id are used. */
  from?: InteractionHandle;
  customId?: string;
  /** Text input values by custom id. */
  fields: Record<string, string>;
}

export type InteractionSpec =
  | CommandInteractionSpec
  | AutocompleteInteractionSpec
  | ButtonInteractionSpec
  | SelectInteractionSpec
  | ModalSubmitInteractionSpec;

export interface BuiltInteraction {
  kind: InteractionKind;
  payload: JsonObject;
  guildId: string | null;
  componentMessage: ApiMessage | undefined;
}

const InteractionType = { ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 } as const;
const ComponentType = { ActionRow: 1, Button: 2, StringSelect: 3, TextInput: 4, TextDisplay: 10, Label: 18 } as const;
const OptionType = {
  Subcommand: 1,
  SubcommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Channel: 7,
  Role: 8,
  Mentionable: 9,
  Number: 10,
} as const;

export class InteractionPayloadBuilder {
  constructor(
    private readonly state: DiscordState,
    private readonly commands: CommandRegistry,
    private readonly applicationId: string,
  ) {}

  build(spec: InteractionSpec): BuiltInteraction {
    const componentMessage = this.#componentMessage(spec);
    const channel = this.#channel(spec, componentMessage);
    const guildId = channel.guildId;
    if (spec.guildId !== undefined && spec.guildId !== guildId) {
      throw new Error(`Channel ${channel.id} is not in guild ${spec.guildId}`);
    }
    const memberPermissions = this.#checkAccess(spec, channel);
    const resolved = new Resolved(this.state, channel, spec.userId);
    const { kind, type, data } = this.#data(spec, channel, resolved, componentMessage);
    const id = this.state.newId();
    const user = this.state.user(spec.userId);
    const member = guildId ? this.state.member(guildId, spec.userId) : undefined;
    const payload: JsonObject = {
      id,
      application_id: this.applicationId,
      type,
      // Shaped like Discord's: base64 of `interaction:<id>:<secret>`.
      token: Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url'),
      version: 1,
      data,
      channel: { ...apiChannel(this.state, channel), permissions: memberPermissions.toString() },
      channel_id: channel.id,
      locale: spec.locale ?? 'en-US',
      app_permissions: this.state.permissionsIn(channel.id, this.state.bot.id).toString(),
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      ...(guildId && member
        ? {
            guild_id: guildId,
            guild: { id: guildId, locale: this.state.guild(guildId).locale, features: [] },
            guild_locale: this.state.guild(guildId).locale,
            member: { ...apiMember(this.state, member), permissions: memberPermissions.toString() },
            authorizing_integration_owners: { '0': guildId },
            context: 0,
          }
        : { user: apiUser(user), authorizing_integration_owners: { '1': spec.userId }, context: 1 }),
      ...(componentMessage ? { message: structuredClone(componentMessage) } : {}),
    };
    return { kind, payload, guildId, componentMessage };
  }

  #channel(spec: InteractionSpec, componentMessage: ApiMessage | undefined): StoredChannel {
    if (spec.dm) return this.state.dmChannel(spec.userId);
    const channelId =
      spec.channelId ??
      (spec.type === 'modal-submit' && spec.from ? spec.from.channelId : undefined) ??
      componentMessage?.channel_id;
    if (channelId === undefined) throw new Error(`sendInteraction(${spec.type}) needs channelId or dm: true`);
    return this.state.channel(channelId);
  }

  /** A member can only act where they see the channel (and, for commands, may use them). */
  #checkAccess(spec: InteractionSpec, channel: StoredChannel): bigint {
    if (channel.guildId !== null && !this.state.member(channel.guildId, spec.userId)) {
      throw new Error(`User ${spec.userId} is not a member of guild ${channel.guildId}`);
    }
    const permissions = this.state.permissionsIn(channel.id, spec.userId);
    if (!hasPermission(permissions, Permission.ViewChannel)) {
      throw new Error(`User ${spec.userId} cannot see channel ${channel.id}, so cannot interact there`);
    }
    if ((spec.type === 'command' || spec.type === 'autocomplete') && !hasPermission(permissions, Permission.UseApplicationCommands)) {
      throw new Error(`User ${spec.userId} lacks USE_APPLICATION_COMMANDS in channel ${channel.id}`);
    }
    return permissions;
  }

  #componentMessage(spec: InteractionSpec): ApiMessage | undefined {
    if (spec.type === 'button' || spec.type === 'select') return this.#resolveMessage(spec.message, spec.channelId);
    if (spec.type === 'modal-submit' && spec.from?.componentMessage) return spec.from.componentMessage;
    return undefined;
  }

  #resolveMessage(ref: MessageRef, channelId: string | undefined): ApiMessage {
    if (typeof ref === 'string') {
      const channels = channelId ? [channelId] : [...this.state.channels.keys()];
      for (const id of channels) {
        const found = this.state.message(id, ref);
        if (found) return found;
      }
      throw new Error(`Message ${ref} not found${channelId ? ` in channel ${channelId}` : ''}`);
    }
    if ('payload' in ref) {
      const original = ref.liveOriginal();
      if (!original) throw new Error(`Interaction ${ref.id} has no original message to click on`);
      return original;
    }
    return this.state.channels.has(ref.channel_id) ? (this.state.message(ref.channel_id, ref.id) ?? ref) : ref;
  }

  #data(
    spec: InteractionSpec,
    channel: StoredChannel,
    resolved: Resolved,
    componentMessage: ApiMessage | undefined,
  ): { kind: InteractionKind; type: number; data: JsonObject } {
    switch (spec.type) {
      case 'command':
        return { kind: 'command', type: InteractionType.ApplicationCommand, data: this.#commandData(spec, channel, resolved) };
      case 'autocomplete':
        return { kind: 'autocomplete', type: InteractionType.Autocomplete, data: this.#commandData(spec, channel, resolved) };
      case 'button':
      case 'select': {
        const component = findComponent(componentMessage?.components ?? [], spec.customId);
        if (!component) throw new Error(`Message ${componentMessage?.id ?? '?'} has no component with custom_id ${JSON.stringify(spec.customId)}`);
        const componentType = Number(component['type']);
        if (spec.type === 'button') {
          if (componentType !== ComponentType.Button) throw new Error(`Component ${spec.customId} is not a button`);
          if (component['disabled'] === true) throw new Error(`Button ${spec.customId} is disabled`);
          return { kind: 'button', type: InteractionType.MessageComponent, data: { custom_id: spec.customId, component_type: componentType } };
        }
        checkSelectValues(component, spec.values);
        return {
          kind: 'select',
          type: InteractionType.MessageComponent,
          data: { custom_id: spec.customId, component_type: componentType, values: [...spec.values] },
        };
      }
      case 'modal-submit':
        return { kind: 'modal-submit', type: InteractionType.ModalSubmit, data: modalSubmitData(spec) };
    }
  }

  #commandData(spec: CommandInteractionSpec | AutocompleteInteractionSpec, channel: StoredChannel, resolved: Resolved): JsonObject {
    const commandType = spec.type === 'command' && spec.commandType === 'user' ? 2 : spec.type === 'command' && spec.commandType === 'message' ? 3 : 1;
    const definition = this.commands.find(spec.name, channel.guildId, commandType);
    if (!definition && !this.commands.isEmpty) throw new Error(`Command ${JSON.stringify(spec.name)} (type ${commandType}) is not registered`);
    const base: JsonObject = {
      id: definition?.['id'] ?? this.state.newId(),
      name: spec.name,
      type: commandType,
      ...(typeof definition?.['guild_id'] === 'string' ? { guild_id: definition['guild_id'] } : {}),
    };
    if (commandType !== 1) {
      const targetId = spec.type === 'command' ? spec.targetId : undefined;
      if (!targetId) throw new Error('Context-menu commands need targetId');
      if (commandType === 2) resolved.user(targetId);
      else resolved.message(targetId);
      return { ...base, target_id: targetId, resolved: resolved.toJson() };
    }
    const focused = spec.type === 'autocomplete' ? spec.focused : undefined;
    const options = Array.isArray(spec.options)
      ? structuredClone(spec.options)
      : buildOptions(definition, spec, focused, resolved);
    return { ...base, options, ...(resolved.isEmpty ? {} : { resolved: resolved.toJson() }) };
  }
}

function buildOptions(
  definition: JsonObject | undefined,
  spec: CommandInteractionSpec | AutocompleteInteractionSpec,
  focused: string | undefined,
  resolved: Resolved,
): JsonObject[] {
  let level = definition ? recordArray(definition['options']) : undefined;
  const descend = (name: string | undefined, type: number): void => {
    if (name === undefined || level === undefined) return;
    const next = level.find((o) => o['name'] === name && o['type'] === type);
    if (!next) throw new Error(`/${spec.name} has no ${type === OptionType.Subcommand ? 'subcommand' : 'group'} ${JSON.stringify(name)}`);
    level = recordArray(next['options']);
  };
  descend(spec.group, OptionType.SubcommandGroup);
  descend(spec.subcommand, OptionType.Subcommand);
  const given: Record<string, OptionValue> = { ...(Array.isArray(spec.options) ? {} : spec.options) };
  if (focused !== undefined && !(focused in given)) given[focused] = '';
  const leaves = Object.entries(given).map(([name, value]) => {
    const def = level?.find((o) => o['name'] === name);
    if (level && !def) throw new Error(`/${spec.name} has no option ${JSON.stringify(name)}`);
    if (name === focused) {
      return { name, type: Number(def?.['type'] ?? OptionType.String), value: String(value), focused: true };
    }
    const type = Number(def?.['type'] ?? inferType(value));
    checkChoice(spec.name, name, def, value);
    resolveOptionValue(type, value, resolved);
    return { name, type, value };
  });
  if (level && spec.type === 'command') {
    for (const def of level) {
      if (def['required'] === true && !(String(def['name']) in given)) {
        throw new Error(`/${spec.name} needs option ${String(def['name'])}`);
      }
    }
  }
  let options: JsonObject[] = leaves;
  if (spec.subcommand !== undefined) options = [{ name: spec.subcommand, type: OptionType.Subcommand, options }];
  if (spec.group !== undefined) options = [{ name: spec.group, type: OptionType.SubcommandGroup, options }];
  return options;
}

function inferType(value: OptionValue): number {
  if (typeof value === 'boolean') return OptionType.Boolean;
  if (typeof value === 'number') return Number.isInteger(value) ? OptionType.Integer : OptionType.Number;
  return OptionType.String;
}

function checkChoice(command: string, name: string, def: JsonObject | undefined, value: OptionValue): void {
  const choices = def ? recordArray(def['choices']) : [];
  if (choices.length > 0 && !choices.some((c) => c['value'] === value)) {
    throw new Error(`/${command} option ${name} must be one of its choices, got ${JSON.stringify(value)}`);
  }
}

function resolveOptionValue(type: number, value: OptionValue, resolved: Resolved): void {
  const id = String(value);
  if (type === OptionType.User) resolved.user(id);
  else if (type === OptionType.Channel) resolved.channel(id);
  else if (type === OptionType.Role) resolved.role(id);
  else if (type === OptionType.Mentionable) resolved.mentionable(id);
}

/** `data.resolved` of an interaction: the objects its options name. */
class Resolved {
  readonly #users: JsonObject = {};
  readonly #members: JsonObject = {};
  readonly #channels: JsonObject = {};
  readonly #roles: JsonObject = {};
  readonly #messages: JsonObject = {};

  constructor(
    private readonly state: DiscordState,
    private readonly home: StoredChannel,
    private readonly invokerId: string,
  ) {}

  get isEmpty(): boolean {
    return [this.#users, this.#channels, this.#roles, this.#messages].every((m) => Object.keys(m).length === 0);
  }

  user(id: string): void {
    const user = this.state.users.get(id);
    if (!user) throw new Error(`Unknown user ${id}`);
    this.#users[id] = apiUser(user);
    const guildId = this.home.guildId;
    const member = guildId ? this.state.member(guildId, id) : undefined;
    if (member) this.#members[id] = { ...apiMember(this.state, member, false), permissions: this.state.permissionsIn(this.home.id, id).toString() };
  }

  channel(id: string): void {
    const channel = this.state.channels.get(id);
    if (!channel || channel.guildId !== this.home.guildId) throw new Error(`Unknown channel ${id} in this guild`);
    const full = apiChannel(this.state, channel);
    this.#channels[id] = {
      id,
      name: channel.name,
      type: channel.type,
      parent_id: channel.parentId,
      ...(isRecord(full['thread_metadata']) ? { thread_metadata: full['thread_metadata'] } : {}),
      // The invoking member's permissions there: how a bot can tell a member may not read it.
      permissions: channel.guildId ? this.state.permissionsIn(id, this.invokerId).toString() : '0',
    };
  }

  role(id: string): void {
    const role = this.state.roles.get(id);
    if (!role || role.guildId !== this.home.guildId) throw new Error(`Unknown role ${id} in this guild`);
    this.#roles[id] = apiRole(role);
  }

  mentionable(id: string): void {
    if (this.state.users.has(id)) this.user(id);
    else this.role(id);
  }

  message(id: string): void {
    const message = this.state.message(this.home.id, id);
    if (!message) throw new Error(`Unknown message ${id} in channel ${this.home.id}`);
    this.#messages[id] = structuredClone(message);
  }

  toJson(): JsonObject {
    const out: JsonObject = {};
    if (Object.keys(this.#users).length) out['users'] = this.#users;
    if (Object.keys(this.#members).length) out['members'] = this.#members;
    if (Object.keys(this.#channels).length) out['channels'] = this.#channels;
    if (Object.keys(this.#roles).length) out['roles'] = this.#roles;
    if (Object.keys(this.#messages).length) out['messages'] = this.#messages;
    return out;
  }
}

/** Depth-first search through action rows, sections (accessory), containers and labels. */
export function findComponent(components: readonly unknown[], customId: string): JsonObject | undefined {
  for (const component of components) {
    if (!isRecord(component)) continue;
    if (component['custom_id'] === customId) return component;
    const nested = [
      ...(Array.isArray(component['components']) ? component['components'] : []),
      ...(isRecord(component['accessory']) ? [component['accessory']] : []),
      ...(isRecord(component['component']) ? [component['component']] : []),
    ];
    const found = findComponent(nested, customId);
    if (found) return found;
  }
  return undefined;
}

function checkSelectValues(component: JsonObject, values: readonly string[]): void {
  const min = typeof component['min_values'] === 'number' ? component['min_values'] : 1;
  const max = typeof component['max_values'] === 'number' ? component['max_values'] : 1;
  if (values.length < min || values.length > max) {
    throw new Error(`Select ${String(component['custom_id'])} takes ${min}–${max} values, got ${values.length}`);
  }
  if (component['type'] === ComponentType.StringSelect) {
    const allowed = recordArray(component['options']).map((o) => o['value']);
    const unknown = values.filter((v) => !allowed.includes(v));
    if (unknown.length > 0) throw new Error(`Select ${String(component['custom_id'])} has no option ${unknown.join(', ')}`);
  }
}

/** Mirrors the modal's layout (action rows or labels) with the member's values, as Discord does. */
function modalSubmitData(spec: ModalSubmitInteractionSpec): JsonObject {
  const modal = spec.from?.callback?.type === CallbackType.Modal ? spec.from.callback.data : undefined;
  if (spec.from && !modal) throw new Error(`Interaction ${spec.from.id} did not show a modal`);
  const customId = spec.customId ?? (typeof modal?.['custom_id'] === 'string' ? modal['custom_id'] : undefined);
  if (customId === undefined) throw new Error('modal-submit needs `from` (a handle that showed a modal) or customId');
  if (!modal) {
    const components = Object.entries(spec.fields).map(([id, value]) => ({
      type: ComponentType.ActionRow,
      components: [{ type: ComponentType.TextInput, custom_id: id, value }],
    }));
    return { custom_id: customId, components };
  }
  const used = new Set<string>();
  const submitInput = (input: JsonObject): JsonObject => {
    const id = String(input['custom_id']);
    const value = spec.fields[id] ?? '';
    checkTextInput(input, value);
    used.add(id);
    return { type: ComponentType.TextInput, ...(input['id'] === undefined ? {} : { id: input['id'] }), custom_id: id, value };
  };
  const components = recordArray(modal['components']).map((row): JsonObject => {
    const type = Number(row['type']);
    if (type === ComponentType.ActionRow) {
      return { type, ...(row['id'] === undefined ? {} : { id: row['id'] }), components: recordArray(row['components']).map(submitInput) };
    }
    if (type === ComponentType.Label && isRecord(row['component'])) {
      const inner = row['component'];
      if (Number(inner['type']) !== ComponentType.TextInput) throw new Error(`Only text inputs are emulated in modals (got type ${String(inner['type'])})`);
      return { type, ...(row['id'] === undefined ? {} : { id: row['id'] }), component: submitInput(inner) };
    }
    return { type, ...(row['id'] === undefined ? {} : { id: row['id'] }) };
  });
  const unknown = Object.keys(spec.fields).filter((id) => !used.has(id));
  if (unknown.length > 0) throw new Error(`The modal has no text input ${unknown.join(', ')}`);
  return { custom_id: customId, components };
}

function checkTextInput(input: JsonObject, value: string): void {
  const id = String(input['custom_id']);
  const required = input['required'] !== false;
  if (required && value.length === 0) throw new Error(`Text input ${id} is required`);
  const min = typeof input['min_length'] === 'number' ? input['min_length'] : 0;
  const max = typeof input['max_length'] === 'number' ? input['max_length'] : 4000;
  if (value.length > 0 && (value.length < min || value.length > max)) {
    throw new Error(`Text input ${id} takes ${min}–${max} characters, got ${value.length}`);
  }
}

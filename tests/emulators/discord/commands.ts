/** Application commands as the bot registers them (global and per guild), with Discord's basic checks. */
import { invalidFormBody, type FieldProblem, Failures } from './errors.ts';
import { isRecord } from './json-input.ts';
import type { JsonObject } from './model.ts';

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** User and message (context-menu) command names may be mixed case and hold spaces, as Discord documents. */
const MENU_NAME = /^(?! )[-_' \p{L}\p{N}\p{P}\p{sc=Deva}\p{sc=Thai}]{1,32}(?<! )$/u;
const CHAT_INPUT = 1;
const MAX_COMMANDS = 100;
const MAX_OPTIONS = 25;

export interface CommandWrite {
  guildId: string | null;
  /** Names after the write (bulk overwrite) or the single command written. */
  names: string[];
  at: number;
}

export class CommandRegistry {
  /** guild id (or '' for global) → commands */
  readonly #scopes = new Map<string, JsonObject[]>();
  /** Every successful write, oldest first. */
  readonly writes: CommandWrite[] = [];

  constructor(
    private readonly applicationId: string,
    private readonly newId: () => string,
    private readonly now: () => number,
  ) {}

  list(guildId: string | null): JsonObject[] {
    return this.#scope(guildId).map((c) => structuredClone(c));
  }

  get(guildId: string | null, id: string): JsonObject {
    const command = this.#scope(guildId).find((c) => c['id'] === id);
    if (!command) throw Failures.unknownCommand();
    return structuredClone(command);
  }

  /** The command a member could invoke here: guild commands shadow global ones. */
  find(name: string, guildId: string | null, type = CHAT_INPUT): JsonObject | undefined {
    const match = (c: JsonObject) => c['name'] === name && (c['type'] ?? CHAT_INPUT) === type;
    return (guildId === null ? undefined : this.#scope(guildId).find(match)) ?? this.#scope(null).find(match);
  }

  get isEmpty(): boolean {
    return [...this.#scopes.values()].every((list) => list.length === 0);
  }

  /** PUT: replaces the scope; commands keep their ids when name and type match. */
  overwrite(guildId: string | null, body: unknown): JsonObject[] {
    if (!Array.isArray(body)) throw invalidFormBody([{ path: [], code: 'BASE_TYPE_LIST', message: 'Must be a list.' }]);
    const problems: FieldProblem[] = [];
    if (body.length > MAX_COMMANDS) problems.push({ path: [], code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_COMMANDS} or fewer in length.` });
    body.forEach((command: unknown, i) => checkCommand(problems, [i], command));
    const seen = new Set<string>();
    body.forEach((command: unknown, i) => {
      if (!isRecord(command)) return;
      const key = `${String(command['type'] ?? CHAT_INPUT)}:${String(command['name'])}`;
      if (seen.has(key)) problems.push({ path: [i, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` });
      seen.add(key);
    });
    if (problems.length > 0) throw invalidFormBody(problems);
    const previous = this.#scope(guildId);
    const next = (body as JsonObject[]).map((command) => {
      const old = previous.find((c) => c['name'] === command['name'] && c['type'] === (command['type'] ?? CHAT_INPUT));
      return this.#stored(guildId, command, typeof old?.['id'] === 'string' ? old['id'] : undefined);
    });
    this.#scopes.set(guildId ?? '', next);
    this.writes.push({ guildId, names: next.map((c) => String(c['name'])), at: this.now() });
    return next.map((c) => structuredClone(c));
  }

  /** POST: creates, or replaces the command of the same name and type. */
  upsert(guildId: string | null, body: unknown): { command: JsonObject; created: boolean } {
    const problems: FieldProblem[] = [];
    checkCommand(problems, [], body);
    if (problems.length > 0 || !isRecord(body)) throw invalidFormBody(problems);
    const scope = this.#scope(guildId);
    const at = scope.findIndex((c) => c['name'] === body['name'] && c['type'] === (body['type'] ?? CHAT_INPUT));
    const existing = at >= 0 ? scope[at] : undefined;
    const command = this.#stored(guildId, body, typeof existing?.['id'] === 'string' ? existing['id'] : undefined);
    if (at >= 0) scope.splice(at, 1, command);
    else scope.push(command);
    this.#scopes.set(guildId ?? '', scope);
    this.writes.push({ guildId, names: [String(command['name'])], at: this.now() });
    return { command: structuredClone(command), created: at < 0 };
  }

  remove(guildId: string | null, id: string): void {
    const scope = this.#scope(guildId);
    const at = scope.findIndex((c) => c['id'] === id);
    if (at < 0) throw Failures.unknownCommand();
    scope.splice(at, 1);
  }

  #scope(guildId: string | null): JsonObject[] {
    return this.#scopes.get(guildId ?? '') ?? [];
  }

  #stored(guildId: string | null, body: JsonObject, id: string | undefined): JsonObject {
    return {
      ...structuredClone(body),
      id: id ?? this.newId(),
      application_id: this.applicationId,
      ...(guildId === null ? {} : { guild_id: guildId }),
      type: body['type'] ?? CHAT_INPUT,
      description: body['description'] ?? '',
      default_member_permissions: body['default_member_permissions'] ?? null,
      nsfw: body['nsfw'] ?? false,
      version: this.newId(),
    };
  }
}

function checkCommand(problems: FieldProblem[], path: (string | number)[], command: unknown): void {
  if (!isRecord(command)) {
    problems.push({ path, code: 'MODEL_TYPE_CONVERT', message: 'Only dictionaries may be used in a ModelType' });
    return;
  }
  const type = command['type'] ?? CHAT_INPUT;
  if (type === CHAT_INPUT) checkName(problems, [...path, 'name'], command['name'], true);
  else if (typeof command['name'] !== 'string' || !MENU_NAME.test(command['name'])) {
    problems.push({ path: [...path, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid` });
  }
  if (type === CHAT_INPUT) checkDescription(problems, [...path, 'description'], command['description']);
  checkOptions(problems, [...path, 'options'], command['options']);
}

function checkOptions(problems: FieldProblem[], path: (string | number)[], options: unknown): void {
  if (options === undefined || options === null) return;
  if (!Array.isArray(options)) {
    problems.push({ path, code: 'BASE_TYPE_LIST', message: 'Must be a list.' });
    return;
  }
  if (options.length > MAX_OPTIONS) problems.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_OPTIONS} or fewer in length.` });
  options.forEach((option: unknown, i) => {
    if (!isRecord(option)) return;
    checkName(problems, [...path, i, 'name'], option['name'], true);
    checkDescription(problems, [...path, i, 'description'], option['description']);
    const choices = option['choices'];
    if (Array.isArray(choices) && choices.length > MAX_OPTIONS) {
      problems.push({ path: [...path, i, 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_OPTIONS} or fewer in length.` });
    }
    checkOptions(problems, [...path, i, 'options'], option['options']);
  });
}

function checkName(problems: FieldProblem[], path: (string | number)[], name: unknown, lowercase: boolean): void {
  if (typeof name !== 'string' || !NAME.test(name) || (lowercase && name !== name.toLowerCase())) {
    problems.push({ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid` });
  }
}

function checkDescription(problems: FieldProblem[], path: (string | number)[], description: unknown): void {
  if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
    problems.push({ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
}

/** Discord's error answers: `{ message, code }`, and for bad bodies `errors` nested by field path. */
import type { JsonObject } from './model.ts';

export class DiscordApiFailure extends Error {
  readonly status: number;
  readonly body: JsonObject;

  constructor(status: number, code: number, message: string, errors?: JsonObject) {
    super(`${status} ${message} (${code})`);
    this.status = status;
    this.body = errors === undefined ? { message, code } : { message, code, errors };
  }
}

export interface FieldProblem {
  /** Path inside the body, e.g. `['embeds', 0, 'description']`; empty for the body itself. */
  path: readonly (string | number)[];
  code: string;
  message: string;
}

/** 50035 Invalid Form Body, with problems nested the way Discord nests them. */
export function invalidFormBody(problems: readonly FieldProblem[]): DiscordApiFailure {
  const errors: JsonObject = {};
  for (const problem of problems) {
    let node = errors;
    for (const key of problem.path) {
      const k = String(key);
      const child = node[k];
      node = typeof child === 'object' && child !== null ? (child as JsonObject) : (node[k] = {}) as JsonObject;
    }
    const list = Array.isArray(node['_errors']) ? (node['_errors'] as unknown[]) : (node['_errors'] = []) as unknown[];
    list.push({ code: problem.code, message: problem.message });
  }
  return new DiscordApiFailure(400, 50035, 'Invalid Form Body', errors);
}

export const Failures = {
  unauthorized: () => new DiscordApiFailure(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordApiFailure(404, 0, '404: Not Found'),
  unknownChannel: () => new DiscordApiFailure(404, 10003, 'Unknown Channel'),
  unknownGuild: () => new DiscordApiFailure(404, 10004, 'Unknown Guild'),
  unknownMember: () => new DiscordApiFailure(404, 10007, 'Unknown Member'),
  unknownMessage: () => new DiscordApiFailure(404, 10008, 'Unknown Message'),
  unknownRole: () => new DiscordApiFailure(404, 10011, 'Unknown Role'),
  unknownUser: () => new DiscordApiFailure(404, 10013, 'Unknown User'),
  unknownWebhook: () => new DiscordApiFailure(404, 10015, 'Unknown Webhook'),
  unknownCommand: () => new DiscordApiFailure(404, 10063, 'Unknown application command'),
  unknownInteraction: () => new DiscordApiFailure(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => new DiscordApiFailure(400, 40060, 'Interaction has already been acknowledged.'),
  invalidWebhookToken: () => new DiscordApiFailure(401, 50027, 'Invalid Webhook Token'),
  missingAccess: () => new DiscordApiFailure(403, 50001, 'Missing Access'),
  missingPermissions: () => new DiscordApiFailure(403, 50013, 'Missing Permissions'),
  notAuthor: () => new DiscordApiFailure(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new DiscordApiFailure(400, 50006, 'Cannot send an empty message'),
  threadAlreadyCreated: () => new DiscordApiFailure(400, 160004, 'A thread has already been created for this message'),
  payloadTooLarge: () => new DiscordApiFailure(413, 40005, 'Request entity too large'),
  badJson: () => new DiscordApiFailure(400, 50109, 'The request body contains invalid JSON.'),
  methodNotAllowed: () => new DiscordApiFailure(405, 0, '405: Method Not Allowed'),
} as const;

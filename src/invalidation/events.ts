import { z } from 'zod';

/**
 * What one process tells the others after it changed shared state:
 * - guild: a guild's prompt config changed (drop its config and snapshot);
 * - repo: a repository was pushed to (its snapshots are no longer fresh);
 *   with `guilds`, only those guilds' configs are concerned (a per-config
 *   webhook may change its own config only);
 * - all: drop everything (sent to local handlers after the listener
 *   reconnected, since messages sent while it was away are lost).
 */
export type InvalidationEvent =
  | { kind: 'guild'; guildId: string }
  | { kind: 'repo'; owner: string; repo: string; ref?: string; commit?: string; guilds?: string[] }
  | { kind: 'all' };

/** Postgres caps a NOTIFY payload at 8000 bytes; ours are far smaller, so anything near that is hostile. */
const MAX_MESSAGE_BYTES = 1024;
/** Guild ids one repo event may name and still fit in a message; publishers split longer lists. */
export const MAX_EVENT_GUILDS = 20;

// GitHub's own character sets, so a message can never smuggle a path, a
// newline or a SQL fragment into whatever reads it.
const guildId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const githubName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/);
const ref = z
  .string()
  .regex(/^[A-Za-z0-9._/-]{1,200}$/)
  .refine((v) => !v.includes('..'));
const sha = z.string().regex(/^[0-9a-f]{7,64}$/);

const eventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('guild'), guildId }),
  z.strictObject({
    kind: z.literal('repo'),
    owner: githubName,
    repo: githubName,
    ref: ref.optional(),
    commit: sha.optional(),
    guilds: z.array(guildId).min(1).max(MAX_EVENT_GUILDS).optional(),
  }),
  z.strictObject({ kind: z.literal('all') }),
]);

const messageSchema = z.strictObject({
  v: z.literal(1),
  /** The publishing process, so it can skip its own messages. */
  origin: z.string().regex(/^[A-Za-z0-9._:-]{1,120}$/),
  event: eventSchema,
});

interface InvalidationMessage {
  v: 1;
  origin: string;
  event: InvalidationEvent;
}

/** Throws on an invalid event: publishing one is a bug in the caller, not bad input. */
export function encodeMessage(origin: string, event: InvalidationEvent): string {
  const message = messageSchema.parse({ v: 1, origin, event });
  return JSON.stringify(message);
}

type Decoded = { ok: true; message: InvalidationMessage } | { ok: false; reason: string };

/** Reads a NOTIFY payload; anyone with database access can send one, so nothing is trusted. */
export function decodeMessage(payload: string): Decoded {
  if (Buffer.byteLength(payload) > MAX_MESSAGE_BYTES) return { ok: false, reason: `payload of ${Buffer.byteLength(payload)} bytes is over ${MAX_MESSAGE_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `payload does not match the message shape (${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'})` };
  }
  return { ok: true, message: parsed.data as InvalidationMessage };
}

/**
 * Reading the bot's Discord messages as a member sees them, shared by the
 * in-process Discord tests and the end-to-end tests.
 */
import { expect } from 'vitest';
import { MessageFlag, type ApiMessage } from '../emulators/discord/model.ts';
import type { InteractionHandle } from '../emulators/discord/server.ts';

export const EPHEMERAL = MessageFlag.Ephemeral;

/** Generous: the machine is shared, and a slow answer is not what these tests are about. */
export const WAIT_MS = 20_000;

/** Content and embeds as one string, for `toContain` and for error messages. */
export function messageText(message: ApiMessage): string {
  return JSON.stringify({ content: message.content, embeds: message.embeds });
}

/** The value of the first embed field whose name starts with `name`. */
export function field(message: ApiMessage, name: string): string {
  const found = message.embeds.flatMap((e) => e.fields ?? []).find((f) => f.name.startsWith(name));
  if (found === undefined) throw new Error(`no field "${name}" in ${messageText(message)}`);
  return found.value;
}

/** The summary's messages (those with embeds) once the one with the footer arrived. */
export function summaryOf(handle: InteractionHandle, timeoutMs = WAIT_MS): Promise<ApiMessage[]> {
  return handle.waitFor(
    (h) => {
      const messages = [h.original, ...h.followUps.map((f) => f.message)].filter(
        (m): m is ApiMessage => m !== undefined && m.embeds.length > 0,
      );
      return messages.some((m) => m.embeds.some((e) => e.footer !== undefined)) ? messages : undefined;
    },
    timeoutMs,
    'the summary',
  );
}

/** The interaction's final answer, shown to the asker alone and saying what `pattern` matches (refusals carry the correlation id). */
export async function privateReply(handle: InteractionHandle, pattern: RegExp, timeoutMs = WAIT_MS): Promise<ApiMessage> {
  const reply = await handle.waitForFinal(() => true, timeoutMs);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  expect(reply.content).toMatch(pattern);
  return reply;
}

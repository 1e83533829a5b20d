/** Reading a posted summary back from the Discord emulator's messages. */
import type { ApiMessage } from '../emulators/discord/server.ts';

/** The footer of the summary's embeds (prompt, model, cost, and any notice of what was cut). */
export const footerOf = (messages: readonly ApiMessage[]): string => messages.flatMap((m) => m.embeds).find((e) => e.footer)!.footer!.text;

/** Every embed description, joined: the summary's text as members read it. */
export const text = (messages: readonly ApiMessage[]): string => messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n');

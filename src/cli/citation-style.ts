/**
 * How citations look in the CLI's plain-text output: the numbers stay as
 * the model wrote them, and a list after the summary says where each points,
 * `[12] → https://discord.com/channels/…` (or the message id without a link).
 */
import type { CitationStyle } from '../summaries/citation-render.ts';

export const cliCitationStyle: CitationStyle = {
  link: () => undefined,
  references: (citations) => citations.map((c) => `[${c.ref}] → ${c.jumpUrl ?? `message ${c.messageId}`}`),
};

import type { APIEmbed } from 'discord.js';
import { DiscordLimits } from '../format/limits.ts';
import { boundedLines, truncate } from '../format/text.ts';
import { MIN_PIECE_CHARS, MarkdownPager } from './split-markdown.ts';

/** One message of a long answer: embeds only, and nothing in it may ping anyone. */
export interface EmbedMessage {
  embeds: APIEmbed[];
  allowedMentions: { parse: [] };
}

export interface EmbedDocument {
  title: string;
  /** Link on the title (the summarized channel). */
  url?: string;
  /** Markdown; split across embeds and messages as needed. */
  text: string;
  /** On the last embed. */
  footer: string;
  /** Short remarks shown in a field of the last embed (warnings). */
  notes?: readonly string[];
  color?: number;
  /** Shown when `text` is empty. */
  emptyText?: string;
}

/** Below this, an embed is not worth starting: the rest goes to the next message. */
const MIN_EMBED_CHARS = 300;
const MAX_NOTES = 5;

/**
 * A long markdown text as Discord messages: each description within 4,096
 * characters, each message within 6,000 characters and 10 embeds, split only
 * where `MarkdownPager` allows (whole words, code blocks closed and reopened).
 * The title opens the first embed; the footer and notes close the last one.
 */
export function embedMessages(doc: EmbedDocument): EmbedMessage[] {
  const title = truncate(doc.title, DiscordLimits.embedTitle);
  const footer = truncate(doc.footer, DiscordLimits.footerText);
  const notes = (doc.notes ?? []).filter((n) => n.trim() !== '');
  const notesField =
    notes.length === 0
      ? undefined
      : {
          name: 'Notes',
          value: boundedLines(
            notes.slice(0, MAX_NOTES).map((n) => `• ${n.replace(/\s+/g, ' ')}`),
            { max: DiscordLimits.fieldValue, maxLine: 400, more: (k) => `…and ${k + Math.max(0, notes.length - MAX_NOTES)} more` },
          ).text,
        };
  // Every message keeps room for the footer and notes: only the last one shows them, but which is last is known only at the end.
  const reserve = footer.length + (notesField ? notesField.name.length + notesField.value.length : 0);
  const base = (): APIEmbed => (doc.color === undefined ? {} : { color: doc.color });

  const messages: APIEmbed[][] = [[]];
  let used = 0;
  const text = doc.text.trim() === '' ? (doc.emptyText ?? '(empty)') : doc.text;
  const pager = new MarkdownPager(text);
  while (!pager.done) {
    const current = messages[messages.length - 1]!;
    const first = messages.length === 1 && current.length === 0;
    const titleCost = first ? title.length : 0;
    const room = Math.min(DiscordLimits.embedDescription, DiscordLimits.embedTotal - used - reserve - titleCost);
    const needed = Math.max(MIN_PIECE_CHARS, Math.min(MIN_EMBED_CHARS, pager.remaining));
    if (current.length > 0 && (current.length >= DiscordLimits.embeds || room < needed)) {
      messages.push([]);
      used = 0;
      continue;
    }
    const description = pager.take(room);
    current.push({ ...base(), ...(first ? { title, ...(doc.url === undefined ? {} : { url: doc.url }) } : {}), description });
    used += description.length + titleCost;
  }

  const last = messages[messages.length - 1]!.at(-1)!;
  last.footer = { text: footer };
  if (notesField) last.fields = [notesField];
  return messages.map((embeds) => ({ embeds, allowedMentions: { parse: [] } }));
}

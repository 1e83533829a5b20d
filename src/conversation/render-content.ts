import type { Attachment, Embed, Message, Sticker } from './model.ts';
import { stripControl } from './text-safety.ts';
import { formatUtcMinute } from './timestamp.ts';

/**
 * Turns a message's Discord markup into plain text a model reads well:
 * mentions become names, custom emoji their `:name:`, timestamps dates, and
 * attachments, stickers and embeds short bracketed markers. Raw ids are
 * meaningless to a reader and cost tokens.
 */

export interface NameLookup {
  /** Display name for a user id, as the transcript shows it. */
  user(id: string): string | undefined;
  channel(id: string): string | undefined;
  role(id: string): string | undefined;
}

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|heic|heif|avif|tiff?)$/i;
const VIDEO = /\.(mp4|mov|webm|mkv|avi|m4v)$/i;
const AUDIO = /\.(mp3|ogg|oga|wav|flac|m4a|opus|aac)$/i;
/** An embed's label when it has only a description or a link. */
const EMBED_TEXT_CHARS = 80;
/** All of an embed's text (title, description, fields): bots say everything there, but one log dump must not crowd out the channel. */
const EMBED_FULL_CHARS = 1_000;

// One pass over all markup, so text produced by one replacement is never
// read again as markup by another.
const MARKUP = /<(@!?|@&|#)(\d{1,20})>|<a?:(\w{1,64}):\d{1,20}>|<t:(-?\d{1,13})(?::[tTdDfFR])?>|<\/([\w\- ]{1,64}):\d{1,20}>/g;

function renderMarkup(text: string, names: NameLookup): string {
  return text.replace(MARKUP, (whole, kind: string | undefined, id: string | undefined, emoji: string | undefined, seconds: string | undefined, command: string | undefined) => {
    if (kind !== undefined && id !== undefined) {
      if (kind === '#') return `#${names.channel(id) ?? 'unknown-channel'}`;
      if (kind === '@&') return `@${names.role(id) ?? 'unknown-role'}`;
      return `@${names.user(id) ?? 'unknown-user'}`;
    }
    if (emoji !== undefined) return `:${emoji}:`;
    if (seconds !== undefined) {
      const ms = Number(seconds) * 1000;
      return Number.isFinite(new Date(ms).getTime()) ? formatUtcMinute(ms) : whole;
    }
    if (command !== undefined) return `/${command}`;
    return whole;
  });
}

function attachmentMarker(attachment: Attachment): string {
  const name = attachment.fileName;
  const kind = IMAGE.test(name) ? 'image' : VIDEO.test(name) ? 'video' : AUDIO.test(name) ? 'audio' : 'file';
  return `[${kind}: ${name}]`;
}

function stickerMarker(sticker: Sticker): string {
  return `[sticker: ${sticker.name}]`;
}

/** `[embed: Title — description — Name: value; Name: value]`, on one line and bounded. */
function embedMarker(embed: Embed): string {
  const fields = (embed.fields ?? []).map((f) => [f.name.trim(), f.value.trim()].filter((part) => part !== '').join(': ')).filter((f) => f !== '');
  if (embed.title === undefined && fields.length === 0) {
    const label = clipText(embed.description, EMBED_TEXT_CHARS) ?? embed.url;
    return label ? `[embed: ${label}]` : '[embed]';
  }
  const parts = [embed.title, embed.description, fields.length > 0 ? fields.join('; ') : undefined].filter((p): p is string => p !== undefined && p.trim() !== '');
  return `[embed: ${clipText(parts.join(' — '), EMBED_FULL_CHARS) ?? embed.url ?? ''}]`;
}

/**
 * The message as one plain text: rendered content, then markers. Control
 * characters are gone; line breaks remain (the transcript formatter folds
 * them). Content beyond `maxChars` is cut with a visible note.
 */
export function renderMessageText(message: Message, names: NameLookup, maxChars: number): string {
  let content = stripControl(renderMarkup(message.content, names)).trim();
  if (content.length > maxChars) content = `${content.slice(0, maxChars)}… [truncated]`;
  const markers = [
    ...message.attachments.map(attachmentMarker),
    ...message.stickers.map(stickerMarker),
    ...message.embeds.map(embedMarker),
  ].map((m) => stripControl(m).replace(/\n/g, ' '));
  return [content, ...markers].filter((part) => part !== '').join(' ');
}

/** True when the message carries nothing a reader could see. */
export function isBlank(message: Message): boolean {
  return (
    message.notice === undefined &&
    stripControl(message.content).trim() === '' &&
    message.attachments.length === 0 &&
    message.stickers.length === 0 &&
    message.embeds.length === 0
  );
}

function clipText(text: string | undefined, maxChars: number): string | undefined {
  if (!text) return undefined;
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line || undefined;
}

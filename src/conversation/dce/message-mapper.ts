import type { Attachment, Author, Embed, EmbedField, Mention, Message, Reaction, Sticker } from '../model.ts';
import { ImportError } from '../import-error.ts';
import { isSnowflake } from '../snowflake.ts';
import { parseTimestamp } from '../timestamp.ts';
import { asArray, asCount, asObject, asRawString, asText, describeJson } from './json-read.ts';
import type { JsonObject, JsonValue } from './value-assembler.ts';

/**
 * Turns one DiscordChatExporter message object into a model Message.
 *
 * Strict only where the data is useless without it: `id` and `timestamp`.
 * Everything else tolerates null, missing or wrongly typed values.
 *
 * System notifications (DiscordChatExporter writes them with a fallback text
 * such as "Joined the server."): pins and thread starts are kept as short
 * notices because they say something about the discussion; joins, leaves,
 * calls, renames, icon changes and boosts are dropped as noise and counted.
 */

export type WarningCode = 'naive-timestamp' | 'unknown-author' | 'invalid-author-id';

interface MapperSink {
  warn(code: WarningCode, messageIndex: number, message: string): void;
  /** Names the export reveals for ids, collected for mention rendering. */
  nameUser(id: string, displayName: string): void;
  nameRole(id: string, name: string): void;
}

type MapOutcome =
  /** `replyChannelId`: the channel of the message replied to, when the export names it. */
  | { kind: 'message'; message: Message; replyChannelId?: string }
  | { kind: 'skipped'; id: string; reason: string };

const NOTICES: Record<string, string> = {
  ChannelPinnedMessage: 'pinned a message',
  '6': 'pinned a message',
  ThreadCreated: 'started a thread',
  '18': 'started a thread',
};

// Discord message types 1-18 are system notifications; DiscordChatExporter
// writes the ones it names by name and the rest as their number.
const DROPPED_SYSTEM = new Set([
  'RecipientAdd',
  'RecipientRemove',
  'Call',
  'ChannelNameChange',
  'ChannelIconChange',
  'GuildMemberJoin',
  ...Array.from({ length: 18 }, (_, i) => String(i + 1)).filter((n) => !(n in NOTICES)),
]);

const REPLY_TYPES = new Set(['Reply', '19']);
const MAX_NAME_CHARS = 100;

export class MessageMapper {
  /** One Author object per id: fifty thousand messages by eight people need eight objects. */
  private readonly authors = new Map<string, Author>();

  constructor(
    private readonly sink: MapperSink,
    private readonly source: string | undefined,
  ) {}

  map(raw: JsonValue, index: number): MapOutcome {
    const msg = asObject(raw);
    if (!msg) throw this.invalid(index, undefined, '', `is ${describeJson(raw)}; expected a message object`);

    const id = this.requireId(msg, index);
    const timestamp = this.requireTimestamp(msg, index, id);
    const type = asText(msg['type']) ?? 'Default';

    if (DROPPED_SYSTEM.has(type)) return { kind: 'skipped', id, reason: `system message (${type})` };
    const notice = NOTICES[type];

    const author = this.author(asObject(msg['author']), index);
    for (const mention of asArray(msg['mentions'])) this.collectRoles(asObject(mention));

    const reference = asObject(msg['reference']);
    const referencedId = asText(reference?.['messageId']);
    const isForward = asText(reference?.['type']) === 'Forward';
    // DiscordChatExporter writes many replies as `Default` with a reference: any reference that is not a forward is an answer.
    const replyTo = referencedId && isSnowflake(referencedId) && !isForward && (REPLY_TYPES.has(type) || type === 'Default' || notice !== undefined) ? referencedId : undefined;
    const replyChannelId = asText(reference?.['channelId']);

    const message: Message = {
      id,
      author,
      timestamp,
      content: notice !== undefined ? '' : (asRawString(msg['content']) ?? ''),
      attachments: attachments(msg['attachments']),
      embeds: embeds(msg['embeds']),
      stickers: stickers(msg['stickers']),
      reactions: reactions(msg['reactions']),
      mentions: this.mentions(msg['mentions']),
    };
    if (replyTo) message.replyTo = replyTo;
    if (notice !== undefined) message.notice = notice;
    mergeForwarded(message, asObject(msg['forwardedMessage']));
    return { kind: 'message', message, ...(replyTo && replyChannelId && isSnowflake(replyChannelId) ? { replyChannelId } : {}) };
  }

  private requireId(msg: JsonObject, index: number): string {
    const raw = msg['id'];
    const id = asText(raw);
    if (id === undefined) throw this.invalid(index, undefined, 'id', `has no "id" (${describeJson(raw)}); every exported message has one`);
    if (!isSnowflake(id)) throw this.invalid(index, undefined, 'id', `has "id" ${describeJson(raw)}; expected a Discord id (digits only)`);
    return id;
  }

  private requireTimestamp(msg: JsonObject, index: number, id: string): number {
    const raw = msg['timestamp'];
    const text = asText(raw);
    if (text === undefined) throw this.invalid(index, id, 'timestamp', `has no "timestamp" (${describeJson(raw)})`);
    const parsed = parseTimestamp(text);
    if (!parsed)
      throw this.invalid(index, id, 'timestamp', `has "timestamp" ${describeJson(raw)}, which is not an ISO-8601 date-time such as 2024-03-01T10:15:30.123+00:00`);
    if (parsed.naive) this.sink.warn('naive-timestamp', index, `timestamp ${JSON.stringify(text)} has no time zone; read as UTC`);
    return parsed.ms;
  }

  private author(raw: JsonObject | undefined, index: number): Author {
    const id = asText(raw?.['id']);
    if (id === undefined) {
      this.sink.warn('unknown-author', index, 'message has no author; shown as "Unknown user"');
      return this.intern('unknown', 'Unknown user', false);
    }
    if (!isSnowflake(id)) {
      this.sink.warn('invalid-author-id', index, `author id ${describeJson(raw?.['id'])} is not a Discord id; shown as "Unknown user"`);
      return this.intern('unknown', 'Unknown user', false);
    }
    this.collectRoles(raw);
    const displayName = userDisplayName(raw);
    this.sink.nameUser(id, displayName);
    return this.intern(id, displayName, raw?.['isBot'] === true);
  }

  private intern(id: string, displayName: string, bot: boolean): Author {
    const known = this.authors.get(id);
    if (known) return known;
    const author: Author = { id, displayName, bot };
    this.authors.set(id, author);
    return author;
  }

  private mentions(value: JsonValue | undefined): Mention[] {
    const out: Mention[] = [];
    for (const item of asArray(value)) {
      const user = asObject(item);
      const id = asText(user?.['id']);
      if (!user || id === undefined || !isSnowflake(id)) continue;
      const displayName = userDisplayName(user);
      this.sink.nameUser(id, displayName);
      out.push({ id, displayName });
    }
    return out;
  }

  private collectRoles(user: JsonObject | undefined): void {
    for (const item of asArray(user?.['roles'])) {
      const role = asObject(item);
      const id = asText(role?.['id']);
      const name = asText(role?.['name']);
      if (id !== undefined && name !== undefined && isSnowflake(id)) this.sink.nameRole(id, clip(name));
    }
  }

  private invalid(index: number, id: string | undefined, field: string, problem: string): ImportError {
    const where = `messages[${index}]${id ? ` (id ${id})` : ''}`;
    return new ImportError('invalid-message', `${where} ${problem}`, {
      source: this.source,
      messageIndex: index,
      ...(id ? { messageId: id } : {}),
      ...(field ? { field } : {}),
    });
  }
}

/** DiscordChatExporter writes the guild nickname (or global display name) as `nickname`; old versions lack it. */
function userDisplayName(user: JsonObject | undefined): string {
  return clip(asText(user?.['nickname']) ?? asText(user?.['name']) ?? 'Unknown user');
}

function clip(text: string): string {
  return text.length > MAX_NAME_CHARS ? `${text.slice(0, MAX_NAME_CHARS)}…` : text;
}

function attachments(value: JsonValue | undefined): Attachment[] {
  const out: Attachment[] = [];
  for (const item of asArray(value)) {
    const raw = asObject(item);
    if (!raw) continue;
    const url = webUrl(raw['url']);
    const fileName = asText(raw['fileName']) ?? (url ? lastPathSegment(url) : undefined) ?? 'attachment';
    const attachment: Attachment = { fileName: clip(fileName) };
    if (url) attachment.url = url;
    const size = asCount(raw['fileSizeBytes']);
    if (size !== undefined) attachment.sizeBytes = size;
    out.push(attachment);
  }
  return out;
}

function embeds(value: JsonValue | undefined): Embed[] {
  const out: Embed[] = [];
  for (const item of asArray(value)) {
    const raw = asObject(item);
    if (!raw) continue;
    const embed: Embed = {};
    const title = asText(raw['title']);
    const description = asText(raw['description']);
    const url = webUrl(raw['url']);
    if (title) embed.title = title;
    if (description) embed.description = description;
    if (url) embed.url = url;
    const fields = embedFields(raw['fields']);
    if (fields.length > 0) embed.fields = fields;
    out.push(embed);
  }
  return out;
}

function embedFields(value: JsonValue | undefined): EmbedField[] {
  const out: EmbedField[] = [];
  for (const item of asArray(value)) {
    const raw = asObject(item);
    const name = asText(raw?.['name']) ?? '';
    const text = asText(raw?.['value']) ?? '';
    if (name.trim() !== '' || text.trim() !== '') out.push({ name, value: text });
  }
  return out;
}

function stickers(value: JsonValue | undefined): Sticker[] {
  const out: Sticker[] = [];
  for (const item of asArray(value)) {
    const raw = asObject(item);
    if (raw) out.push({ name: clip(asText(raw['name']) ?? 'sticker') });
  }
  return out;
}

function reactions(value: JsonValue | undefined): Reaction[] {
  const out: Reaction[] = [];
  for (const item of asArray(value)) {
    const raw = asObject(item);
    const emoji = asObject(raw?.['emoji']);
    if (!raw || !emoji) continue;
    const name = asText(emoji['name']);
    const code = asText(emoji['code']);
    // Custom emoji have an id and a name such as "shipit"; standard emoji have the character itself as name.
    const isCustom = asText(emoji['id']) !== undefined;
    const label = isCustom ? `:${name ?? code ?? 'emoji'}:` : (name ?? (code ? `:${code}:` : undefined));
    if (!label) continue;
    out.push({ emoji: clip(label), count: asCount(raw['count']) ?? 1 });
  }
  return out;
}

/** Forwarded messages (recent DiscordChatExporter versions) carry the original text in `forwardedMessage`. */
function mergeForwarded(message: Message, forwarded: JsonObject | undefined): void {
  if (!forwarded) return;
  const text = asRawString(forwarded['content'])?.trim();
  if (text) message.content = message.content.trim() ? `${message.content}\n[forwarded] ${text}` : `[forwarded] ${text}`;
  message.attachments.push(...attachments(forwarded['attachments']));
  message.embeds.push(...embeds(forwarded['embeds']));
  message.stickers.push(...stickers(forwarded['stickers']));
}

/** Only web links are kept: exports made with --media hold local paths that mean nothing to the bot. */
function webUrl(value: JsonValue | undefined): string | undefined {
  const text = asText(value);
  return text && /^https?:\/\/[^\s]+$/i.test(text) ? text : undefined;
}

function lastPathSegment(url: string): string | undefined {
  const path = url.split(/[?#]/)[0] ?? '';
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last || undefined;
}

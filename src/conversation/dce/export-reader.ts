import { Writable } from 'node:stream';
import { ImportError, countMessages } from '../import-error.ts';
import { AssemblyLimitError, ValueAssembler, type JsonObject, type JsonToken, type JsonValue } from './value-assembler.ts';
import { asCount, asObject, asText } from './json-read.ts';

/**
 * Walks the token stream of a DiscordChatExporter JSON export:
 *
 *   { "guild": {...}, "channel": {...}, "dateRange": {...}, "exportedAt": "...",
 *     "messages": [ {...}, ... ], "messageCount": 123 }
 *
 * Each message is assembled on its own and handed over at once, so memory
 * holds one raw message at a time. The small header objects are kept; any
 * other top-level value is stepped over without being built.
 */

export interface ExportHeader {
  guild?: JsonObject;
  channel?: JsonObject;
  dateRange?: JsonObject;
  exportedAt?: string;
  /** The `messageCount` the exporter wrote at the end, when present. */
  declaredMessageCount?: number;
}

interface ExportReaderOptions {
  maxMessages: number;
  source?: string | undefined;
  /** Receives each raw message in file order; may throw an ImportError. */
  onMessage(raw: JsonValue, index: number): void;
}

const HEADER_KEYS = new Set(['guild', 'channel', 'dateRange', 'exportedAt', 'messageCount']);
const EXPECTED = 'a DiscordChatExporter JSON export is an object with "guild", "channel" and "messages"';

// Parts of a message the importer never reads: reactor lists can hold
// thousands of users, and avatars, roles of reactors and embed media are bulk.
const MESSAGE_SKIP = new Set([
  'reactions.*.users',
  'reactions.*.emoji.imageUrl',
  'author.avatarUrl',
  'author.color',
  'mentions.*.avatarUrl',
  'mentions.*.color',
  'interaction.user',
  'inlineEmojis',
  'embeds.*.images',
  'embeds.*.image',
  'embeds.*.thumbnail',
  'embeds.*.video',
  'embeds.*.footer',
  'embeds.*.author',
  'embeds.*.inlineEmojis',
  'forwardedMessage.embeds.*.images',
]);

type State = 'start' | 'top' | 'messages-value' | 'messages' | 'message' | 'header' | 'skip' | 'done';

export class ExportReader extends Writable {
  readonly header: ExportHeader = {};
  /** Messages completely read (including ones later dropped). */
  messagesRead = 0;
  lastMessageId: string | undefined;

  private state: State = 'start';
  private topKey = '';
  private readonly topKeys: string[] = [];
  private sawMessages = false;
  private skipDepth = 0;
  private messageIndex = -1;
  private readonly message = new ValueAssembler({ maxDepth: 32, maxTokens: 50_000, maxChars: 4 * 1024 * 1024 }, MESSAGE_SKIP);
  private readonly headerValue = new ValueAssembler({ maxDepth: 16, maxTokens: 5_000, maxChars: 256 * 1024 });

  constructor(private readonly options: ExportReaderOptions) {
    super({ objectMode: true });
  }

  /** Where the reader is, for parse errors that arrive from upstream: `messages[12].author` or `guild`. */
  get location(): string {
    if (this.state === 'message') {
      const inner = this.message.path;
      return `messages[${this.messageIndex}]${inner ? `.${inner}` : ''}`;
    }
    if (this.state === 'messages' || this.state === 'messages-value') return 'messages';
    if (this.state === 'header') return this.topKey;
    if (this.state === 'done') return 'the text after the export object';
    return 'the top-level object';
  }

  override _write(token: JsonToken, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.step(token);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      this.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private step(token: JsonToken): void {
    switch (this.state) {
      case 'start':
        return this.begin(token);
      case 'top':
        return this.topLevel(token);
      case 'messages-value':
        if (token.name !== 'startArray') throw this.wrongFormat(`"messages" is ${tokenKind(token)}; expected an array of messages`);
        this.sawMessages = true;
        this.state = 'messages';
        return;
      case 'messages':
        if (token.name === 'endArray') {
          this.state = 'top';
          return;
        }
        this.startMessage();
        return this.feedMessage(token);
      case 'message':
        return this.feedMessage(token);
      case 'header':
        if (this.assemble(this.headerValue, token, this.topKey)) {
          this.storeHeader(this.topKey, this.headerValue.value);
          this.state = 'top';
        }
        return;
      case 'skip':
        if (token.name === 'startObject' || token.name === 'startArray') this.skipDepth++;
        else if (token.name === 'endObject' || token.name === 'endArray') this.skipDepth--;
        if (this.skipDepth === 0 && token.name !== 'keyValue') this.state = 'top';
        return;
      case 'done':
        return;
    }
  }

  private begin(token: JsonToken): void {
    if (token.name === 'startObject') {
      this.state = 'top';
      return;
    }
    if (token.name === 'startArray')
      throw this.wrongFormat(`the top level is an array; ${EXPECTED} (a bare array of messages, such as Discord API output, is a different format)`);
    throw this.wrongFormat(`the top level is ${tokenKind(token)}; ${EXPECTED}`);
  }

  private topLevel(token: JsonToken): void {
    if (token.name === 'endObject') {
      this.state = 'done';
      return;
    }
    if (token.name !== 'keyValue') return;
    const key = String(token.value);
    this.topKey = key;
    if (this.topKeys.length < 50) this.topKeys.push(key);
    if (key === 'messages') {
      this.state = 'messages-value';
    } else if (HEADER_KEYS.has(key)) {
      this.headerValue.reset();
      this.state = 'header';
    } else {
      // A 2 GB file of some other JSON should fail fast, not after a full read.
      const known = this.topKeys.some((k) => k === 'messages' || HEADER_KEYS.has(k));
      if (!known && this.topKeys.length >= 2) throw this.wrongFormat(`its top-level keys start with ${this.keyList()}; ${EXPECTED}`);
      this.skipDepth = 0;
      this.state = 'skip';
    }
  }

  private startMessage(): void {
    this.messageIndex++;
    if (this.messageIndex >= this.options.maxMessages) {
      throw new ImportError(
        'too-many-messages',
        `the export holds more than ${this.options.maxMessages} messages, the import limit; export a shorter date range (DiscordChatExporter --after/--before) or raise maxMessages`,
        { source: this.options.source, messageIndex: this.messageIndex, messagesRead: this.messagesRead },
      );
    }
    this.message.reset();
    this.state = 'message';
  }

  private feedMessage(token: JsonToken): void {
    if (!this.assemble(this.message, token, `messages[${this.messageIndex}]`)) return;
    this.state = 'messages';
    const raw = this.message.value;
    this.options.onMessage(raw, this.messageIndex);
    this.messagesRead++;
    this.lastMessageId = asText(asObject(raw)?.['id']);
  }

  private assemble(assembler: ValueAssembler, token: JsonToken, where: string): boolean {
    try {
      return assembler.push(token);
    } catch (error) {
      if (!(error instanceof AssemblyLimitError)) throw error;
      const path = assembler.path;
      throw new ImportError('too-large', `${where}${path ? `.${path}` : ''} has ${error.message}; a DiscordChatExporter export has no such value`, {
        source: this.options.source,
        ...(where.startsWith('messages[') ? { messageIndex: this.messageIndex } : {}),
        field: path || where,
        messagesRead: this.messagesRead,
      });
    }
  }

  private storeHeader(key: string, value: JsonValue): void {
    if (key === 'exportedAt') {
      const text = asText(value);
      if (text) this.header.exportedAt = text;
    } else if (key === 'messageCount') {
      const count = asCount(value);
      if (count !== undefined) this.header.declaredMessageCount = count;
    } else {
      const obj = asObject(value);
      if (key === 'channel' && !obj) throw this.wrongFormat(`"channel" is ${value === null ? 'null' : 'not an object'}; expected the exported channel's details`);
      if (obj && (key === 'guild' || key === 'channel' || key === 'dateRange')) this.header[key] = obj;
    }
  }

  private finish(): void {
    if (this.state !== 'done') {
      throw new ImportError('truncated', `the JSON ends inside ${this.location}; the file looks truncated (${countMessages(this.messagesRead)} read before the end)`, {
        source: this.options.source,
        messagesRead: this.messagesRead,
      });
    }
    const missing = [!this.header.channel && '"channel"', !this.sawMessages && '"messages"'].filter(Boolean);
    if (missing.length > 0) {
      throw this.wrongFormat(`this JSON object has no ${missing.join(' and ')} (its top-level keys: ${this.keyList()}); ${EXPECTED}`);
    }
  }

  private keyList(): string {
    if (this.topKeys.length === 0) return 'none';
    return this.topKeys
      .slice(0, 8)
      .map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k))
      .join(', ');
  }

  private wrongFormat(message: string): ImportError {
    return new ImportError('wrong-format', `not a DiscordChatExporter export: ${message}`, { source: this.options.source, messagesRead: this.messagesRead });
  }
}

function tokenKind(token: JsonToken): string {
  switch (token.name) {
    case 'startObject':
      return 'an object';
    case 'startArray':
      return 'an array';
    case 'stringValue':
      return 'a string';
    case 'numberValue':
      return 'a number';
    case 'nullValue':
      return 'null';
    default:
      return 'a boolean';
  }
}

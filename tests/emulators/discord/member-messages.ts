/** Messages written by members: back-filled history and live posts, only where they may post. */
import type { MessageFactory } from './message-factory.ts';
import { Permission, hasPermission } from './permissions.ts';
import type { GatewayPublisher } from './publisher.ts';
import type { DiscordState } from './state.ts';
import type { ApiEmbed, ApiMessage, JsonObject, RecordedFile, StoredChannel } from './model.ts';

export interface SeedAttachment {
  filename: string;
  content: string | Buffer;
  contentType?: string;
}

export interface SeedMessage {
  authorId: string;
  content?: string;
  embeds?: ApiEmbed[];
  attachments?: SeedAttachment[];
  /** Id of the message (same channel) this one replies to. */
  replyTo?: string;
  /** Default: now (messageCreate) or spaced back in time (seedMessages). */
  at?: Date | number;
}

export interface SeedOptions {
  /** Authors to rotate through when generating; default: every member who can post there. */
  authorIds?: string[];
  /** Gap between generated messages (default 60 s). */
  spacingMs?: number;
  /** Time of the newest generated message (default one spacing before now). */
  endAt?: Date | number;
}

export interface MemberMessage extends SeedMessage {
  channelId: string;
  components?: JsonObject[];
}

const PHRASES = [
  'Has anyone looked at the deploy logs from last night?',
  'I pushed a fix for the login timeout, review welcome.',
  'The staging database is back up.',
  'Can we move the retro to Thursday?',
  'Benchmarks look about 12% faster after the cache change.',
  'Reminder: release freeze starts Friday.',
  'I think the flaky test is a race in the queue consumer.',
  'Docs for the new API are in the wiki.',
];

export class MemberMessages {
  constructor(
    private readonly state: DiscordState,
    private readonly factory: MessageFactory,
    private readonly publisher: GatewayPublisher,
  ) {}

  /** Back-fills history without gateway events: the messages predate the bot's session. */
  seed(channelId: string, messages: number | readonly SeedMessage[], options: SeedOptions = {}): ApiMessage[] {
    const channel = this.state.channel(channelId);
    const spacing = options.spacingMs ?? 60_000;
    const end = toMs(options.endAt) ?? this.state.clock.now() - spacing;
    const list = typeof messages === 'number' ? this.#generated(channel, messages, options.authorIds) : [...messages];
    return list.map((m, i) => this.store(channel, { ...m, at: m.at ?? end - (list.length - 1 - i) * spacing }, { publish: false }));
  }

  /** Stores a member's message and, when `publish`, sends MESSAGE_CREATE. */
  store(channel: StoredChannel, input: SeedMessage & { components?: JsonObject[] }, how: { publish: boolean; id?: string }): ApiMessage {
    const author = this.state.user(input.authorId);
    if (!this.canPost(channel, author.id)) throw new Error(`User ${author.id} cannot post in channel ${channel.id}`);
    const atMs = toMs(input.at) ?? this.state.clock.now();
    const files: RecordedFile[] = (input.attachments ?? []).map((a, i) => {
      const content = typeof a.content === 'string' ? Buffer.from(a.content) : a.content;
      return { field: `files[${i}]`, filename: a.filename, size: content.length, contentType: a.contentType ?? 'application/octet-stream', content };
    });
    const body: JsonObject = {
      content: input.content ?? '',
      ...(input.embeds ? { embeds: input.embeds } : {}),
      ...(input.components ? { components: input.components } : {}),
      ...(input.replyTo ? { message_reference: { message_id: input.replyTo } } : {}),
    };
    const message = this.factory.create({ channel, author, body, files, atMs, id: how.id ?? this.state.newId(atMs) });
    this.state.insertMessage(message);
    if (how.publish) this.publisher.messageCreated(message);
    return message;
  }

  canPost(channel: StoredChannel, userId: string): boolean {
    if (channel.guildId === null) return channel.recipientIds.includes(userId);
    if (!this.state.member(channel.guildId, userId)) return false;
    const send = channel.thread ? Permission.SendMessagesInThreads : Permission.SendMessages;
    return hasPermission(this.state.permissionsIn(channel.id, userId), Permission.ViewChannel | send);
  }

  #generated(channel: StoredChannel, count: number, authorIds: string[] | undefined): SeedMessage[] {
    const authors = authorIds ?? this.#postersIn(channel);
    if (authors.length === 0) throw new Error(`No member can post in channel ${channel.id}; add members or pass authorIds`);
    return Array.from({ length: count }, (_, i) => ({
      authorId: authors[i % authors.length] ?? '',
      content: `${PHRASES[i % PHRASES.length] ?? ''} (#${i + 1})`,
    }));
  }

  #postersIn(channel: StoredChannel): string[] {
    if (channel.guildId === null) return channel.recipientIds;
    return this.state
      .membersOf(channel.guildId)
      .map((m) => m.userId)
      .filter((id) => !this.state.user(id).bot && this.canPost(channel, id));
  }
}

function toMs(at: Date | number | undefined): number | undefined {
  return at === undefined ? undefined : typeof at === 'number' ? at : at.getTime();
}

/** Builds and edits message objects the way Discord fills them in (mentions, replies, attachments). */
import { invalidFormBody } from './errors.ts';
import { isRecord, recordArray } from './json-input.ts';
import { apiUser } from './serialize.ts';
import type { DiscordState } from './state.ts';
import {
  MessageFlag,
  type ApiAttachment,
  type ApiEmbed,
  type ApiMessage,
  type JsonObject,
  type RecordedFile,
  type StoredChannel,
  type StoredUser,
} from './model.ts';

export const MessageType = { Default: 0, Reply: 19, ChatInputCommand: 20, ThreadStarterMessage: 21, ContextMenuCommand: 23 } as const;

const CREATE_FLAGS = MessageFlag.Ephemeral | MessageFlag.SuppressEmbeds | MessageFlag.SuppressNotifications | MessageFlag.IsComponentsV2;

export interface MessageDraft {
  channel: StoredChannel;
  author: StoredUser;
  /** An already validated payload: content, embeds, components, flags, message_reference, … */
  body: JsonObject;
  files: readonly RecordedFile[];
  /** Creation time; defaults to now. */
  atMs?: number;
  /** A chosen id, e.g. a forum post's starter message shares the thread's id. */
  id?: string;
  type?: number;
  extra?: Partial<ApiMessage>;
}

export class MessageFactory {
  constructor(
    private readonly state: DiscordState,
    /** Where attachment bytes are served, e.g. `http://127.0.0.1:PORT/attachments`. */
    private readonly attachmentBase: () => string,
  ) {}

  create(draft: MessageDraft): ApiMessage {
    const { channel, author, body } = draft;
    const atMs = draft.atMs ?? this.state.clock.now();
    const id = draft.id ?? this.state.newId(atMs);
    const content = typeof body['content'] === 'string' ? body['content'] : '';
    const reference = this.#reference(channel, body['message_reference']);
    const message: ApiMessage = {
      id,
      channel_id: channel.id,
      author: apiUser(author),
      content,
      timestamp: new Date(atMs).toISOString(),
      edited_timestamp: null,
      tts: body['tts'] === true,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: this.#newAttachments(channel.id, draft.files, body['attachments'], atMs),
      embeds: normalizeEmbeds(body['embeds']),
      components: recordArray(body['components']),
      pinned: false,
      type: draft.type ?? (reference ? MessageType.Reply : MessageType.Default),
      flags: (typeof body['flags'] === 'number' ? body['flags'] : 0) & CREATE_FLAGS,
      ...(reference
        ? {
            message_reference: { type: 0, message_id: reference.id, channel_id: channel.id, ...(channel.guildId ? { guild_id: channel.guildId } : {}) },
            referenced_message: withoutReference(reference),
          }
        : {}),
      ...(typeof body['nonce'] === 'string' || typeof body['nonce'] === 'number' ? { nonce: body['nonce'] } : {}),
      ...draft.extra,
    };
    this.#fillMentions(message, channel, body['allowed_mentions']);
    return message;
  }

  /** Applies an edit in place (so every holder of the message sees it) and stamps `edited_timestamp`. */
  edit(message: ApiMessage, body: JsonObject, files: readonly RecordedFile[]): void {
    const atMs = this.state.clock.now();
    if (typeof body['content'] === 'string' || body['content'] === null) message.content = body['content'] ?? '';
    if (body['embeds'] !== undefined) message.embeds = normalizeEmbeds(body['embeds']);
    if (body['components'] !== undefined) message.components = recordArray(body['components']);
    if (typeof body['flags'] === 'number') {
      message.flags = (message.flags & ~MessageFlag.SuppressEmbeds) | (body['flags'] & MessageFlag.SuppressEmbeds);
    }
    const keep = body['attachments'];
    const kept = Array.isArray(keep)
      ? message.attachments.filter((a) => keep.some((k: unknown) => isRecord(k) && String(k['id']) === a.id))
      : message.attachments;
    message.attachments = [...kept, ...this.#newAttachments(message.channel_id, files, keep, atMs)];
    message.edited_timestamp = new Date(atMs).toISOString();
    const channel = this.state.channels.get(message.channel_id);
    if (channel) this.#fillMentions(message, channel, body['allowed_mentions']);
  }

  /** Stores bytes for download and describes them as Discord does. */
  attachment(channelId: string, file: Pick<RecordedFile, 'filename' | 'contentType' | 'content'>, atMs: number, description?: string): ApiAttachment {
    const id = this.state.newId(atMs);
    this.state.attachmentBytes.set(id, { channelId, filename: file.filename, contentType: file.contentType, content: file.content });
    const url = `${this.attachmentBase()}/${channelId}/${id}/${encodeURIComponent(file.filename)}`;
    return {
      id,
      filename: file.filename,
      size: file.content.length,
      url,
      proxy_url: url,
      content_type: file.contentType,
      ...(description === undefined ? {} : { description }),
    };
  }

  #newAttachments(channelId: string, files: readonly RecordedFile[], described: unknown, atMs: number): ApiAttachment[] {
    const descriptions = recordArray(described);
    return files.map((file) => {
      const index = /\[(\d+)\]$/.exec(file.field)?.[1];
      const meta = descriptions.find((d) => String(d['id']) === index);
      const description = typeof meta?.['description'] === 'string' ? meta['description'] : undefined;
      return this.attachment(channelId, file, atMs, description);
    });
  }

  #reference(channel: StoredChannel, reference: unknown): ApiMessage | undefined {
    if (!isRecord(reference)) return undefined;
    const id = reference['message_id'];
    const target = typeof id === 'string' ? this.state.message(channel.id, id) : undefined;
    if (!target && reference['fail_if_not_exists'] !== false) {
      throw invalidFormBody([{ path: ['message_reference'], code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }]);
    }
    return target;
  }

  /** Mentions come from the content, filtered by `allowed_mentions.parse` for @everyone like Discord. */
  #fillMentions(message: ApiMessage, channel: StoredChannel, allowed: unknown): void {
    const userIds = new Set([...message.content.matchAll(/<@!?(\d{1,20})>/g)].map((m) => m[1] ?? ''));
    const roleIds = new Set([...message.content.matchAll(/<@&(\d{1,20})>/g)].map((m) => m[1] ?? ''));
    message.mentions = [...userIds].flatMap((id) => {
      const user = this.state.users.get(id);
      return user ? [apiUser(user)] : [];
    });
    message.mention_roles = [...roleIds].filter((id) => this.state.roles.get(id)?.guildId === channel.guildId);
    const parse = isRecord(allowed) && Array.isArray(allowed['parse']) ? allowed['parse'] : undefined;
    message.mention_everyone = /@(everyone|here)\b/.test(message.content) && (parse === undefined || parse.includes('everyone'));
  }
}

function normalizeEmbeds(embeds: unknown): ApiEmbed[] {
  return recordArray(embeds).map((embed) => ({ type: 'rich', ...structuredClone(embed) }) as ApiEmbed);
}

function withoutReference(message: ApiMessage): ApiMessage {
  const { referenced_message: _dropped, ...rest } = message;
  return structuredClone(rest);
}

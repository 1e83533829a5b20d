/**
 * Shapes the emulator keeps and serves. Stored* types are the emulator's own mutable records;
 * Api* types are the JSON Discord sends (only the fields discord.js and tests read are named).
 */
import type { Overwrite } from './permissions.ts';

export type JsonObject = { [key: string]: unknown };

export const ChannelType = {
  GuildText: 0,
  DM: 1,
  GuildVoice: 2,
  GuildCategory: 4,
  GuildAnnouncement: 5,
  AnnouncementThread: 10,
  PublicThread: 11,
  PrivateThread: 12,
  GuildForum: 15,
} as const;

export const THREAD_TYPES: ReadonlySet<number> = new Set([
  ChannelType.AnnouncementThread,
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
]);

export const MessageFlag = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: 1 << 15,
} as const;

export interface StoredUser {
  id: string;
  username: string;
  globalName: string | null;
  avatar: string | null;
  bot: boolean;
}

export interface StoredGuild {
  id: string;
  name: string;
  ownerId: string;
  locale: string;
  /** The managed role Discord creates for the bot when it joins. */
  botRoleId: string;
}

export interface StoredRole {
  id: string;
  guildId: string;
  name: string;
  permissions: bigint;
  position: number;
  color: number;
  hoist: boolean;
  mentionable: boolean;
  managed: boolean;
  botId: string | null;
}

export interface StoredMember {
  guildId: string;
  userId: string;
  roleIds: string[];
  nick: string | null;
  joinedAt: string;
}

export interface ThreadState {
  ownerId: string;
  archived: boolean;
  locked: boolean;
  autoArchiveDuration: number;
  archiveTimestamp: string;
  createTimestamp: string;
  messageCount: number;
  totalMessageSent: number;
  /** Thread members (user ids): who has joined, been added, or created it. A private thread is only theirs. */
  memberIds: Set<string>;
  appliedTags: string[];
}

export interface StoredChannel {
  id: string;
  guildId: string | null;
  type: number;
  name: string;
  parentId: string | null;
  position: number;
  topic: string | null;
  nsfw: boolean;
  rateLimitPerUser: number;
  overwrites: Overwrite[];
  lastMessageId: string | null;
  /** Present on threads and forum posts. */
  thread: ThreadState | null;
  /** Present on DM channels. */
  recipientIds: string[];
  /** Forum tags, `{ id, name, moderated, emoji_id, emoji_name }`. */
  availableTags: JsonObject[];
}

export interface ApiUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
}

export interface ApiAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

export interface ApiEmbedField {
  name: string;
  value: string;
  inline?: boolean;
}

export interface ApiEmbed {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  fields?: ApiEmbedField[];
  footer?: { text: string; icon_url?: string };
  author?: { name: string; url?: string; icon_url?: string };
  [key: string]: unknown;
}

export interface ApiMessage {
  id: string;
  channel_id: string;
  author: ApiUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: ApiUser[];
  mention_roles: string[];
  attachments: ApiAttachment[];
  embeds: ApiEmbed[];
  components: JsonObject[];
  pinned: boolean;
  type: number;
  flags: number;
  message_reference?: { type: number; message_id: string; channel_id: string; guild_id?: string };
  referenced_message?: ApiMessage | null;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: JsonObject;
  thread?: JsonObject;
  reactions?: JsonObject[];
  nonce?: string | number;
  position?: number;
}

/** A file uploaded with a request, kept whole so tests can read what the bot sent. */
export interface RecordedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  size: number;
  contentType: string;
  content: Buffer;
}

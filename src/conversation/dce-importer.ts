import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Parser from 'stream-json/Parser.js';
import type { Conversation, ConversationSource, NameDirectory } from './model.ts';
import { ImportError, countMessages } from './import-error.ts';
import { buildJumpUrl, isSnowflake } from './snowflake.ts';
import { JsonByteGuard } from './dce/json-byte-guard.ts';
import { ExportReader, type ExportHeader } from './dce/export-reader.ts';
import { ImportCollector, type ImportWarning, type SkippedMessages } from './dce/import-collector.ts';
import { asText } from './dce/json-read.ts';

/**
 * Imports a DiscordChatExporter JSON export (https://github.com/Tyrrrz/DiscordChatExporter,
 * `--format Json`) into the conversation model, streaming: the file is never
 * held in memory whole, only the messages it yields.
 */

export { ImportError } from './import-error.ts';

interface ImportOptions {
  /** Refuse exports with more messages than this (default 200,000). */
  maxMessages?: number;
  /** Largest single string allowed in the file, in bytes (default 8 MiB). */
  maxValueBytes?: number;
  /** Name used in error messages; defaults to the file's base name when a path is given. */
  sourceName?: string;
  /** Called every `progressEvery` messages (default 5,000). */
  onProgress?: (progress: { bytesRead: number; messagesRead: number }) => void;
  progressEvery?: number;
  signal?: AbortSignal;
}

export interface ImportStats {
  bytesRead: number;
  /** Message objects read from the file. */
  messagesRead: number;
  /** Messages in the resulting conversation. */
  imported: number;
  duplicatesDropped: number;
  /** Messages read but left out on purpose, by reason (system notices such as joins). */
  skipped: SkippedMessages[];
  warnings: ImportWarning[];
}

/** What the export says about itself, for display. */
export interface ExportInfo {
  /** DiscordChatExporter's channel kind, such as `GuildTextChat` or `GuildPublicThread`. */
  channelType?: string;
  exportedAt?: string;
  dateRange?: { after?: string; before?: string };
  declaredMessageCount?: number;
}

export interface ImportResult {
  conversation: Conversation;
  stats: ImportStats;
  export: ExportInfo;
}

const DEFAULT_MAX_MESSAGES = 200_000;
const DEFAULT_MAX_VALUE_BYTES = 8 * 1024 * 1024;

/**
 * @param input a file path, or a readable stream of the export's bytes (it is
 *   destroyed if the import fails).
 * @throws ImportError for anything wrong with the input, naming what and where.
 */
export async function importDiscordChatExporter(input: string | Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const source = options.sourceName ?? (typeof input === 'string' ? basename(input) : undefined);
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const progressEvery = Math.max(1, options.progressEvery ?? 5_000);

  const guard = new JsonByteGuard({ maxRunBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES, source });
  const collector = new ImportCollector(source);
  const reader = new ExportReader({
    maxMessages,
    source,
    onMessage: (raw, index) => {
      collector.add(raw, index);
      if (options.onProgress && (index + 1) % progressEvery === 0) options.onProgress({ bytesRead: guard.bytesRead, messagesRead: index + 1 });
    },
  });
  const bytes = typeof input === 'string' ? createReadStream(input) : input;

  try {
    await pipeline(bytes, guard, new Parser({ packValues: true, streamValues: false }), reader, ...(options.signal ? [{ signal: options.signal }] : []));
  } catch (error) {
    throw explain(error, { source, guard, reader });
  }

  const described = describeSource(reader.header);
  if (!described.urlChannelId) collector.warn('missing-channel-id', 'the export\'s "channel" has no usable id; messages have no jump links');
  const declared = reader.header.declaredMessageCount;
  if (declared !== undefined && declared !== reader.messagesRead) {
    collector.warn('message-count-mismatch', `the export says it holds ${declared} messages but ${reader.messagesRead} were read`);
  }

  for (const message of collector.messages) {
    // A reference into another channel (a crosspost from a followed channel, a thread's starter) answers nothing here.
    const replyChannel = collector.replyChannels.get(message.id);
    if (replyChannel !== undefined && described.urlChannelId !== undefined && replyChannel !== described.urlChannelId) delete message.replyTo;
    if (described.source.threadId) message.threadId = described.source.threadId;
    if (described.urlChannelId) {
      const url = buildJumpUrl(described.source.guildId, described.urlChannelId, message.id);
      if (url) message.jumpUrl = url;
    }
  }

  const conversation: Conversation = {
    source: described.source,
    messages: collector.messages,
    names: nameDirectory(collector, described.source),
  };
  return {
    conversation,
    stats: {
      bytesRead: guard.bytesRead,
      messagesRead: reader.messagesRead,
      imported: collector.messages.length,
      duplicatesDropped: collector.duplicatesDropped,
      skipped: collector.skipped,
      warnings: collector.warnings,
    },
    export: exportInfo(reader.header, described.channelType),
  };
}

interface DescribedSource {
  source: ConversationSource;
  /** The channel (or thread) id that message links go through. */
  urlChannelId: string | undefined;
  channelType: string | undefined;
}

/**
 * DiscordChatExporter's `channel.category` is the channel's parent: a category
 * for ordinary channels, but the parent channel for threads (its own schema
 * note says so), so a thread export maps to parent channel + thread.
 */
function describeSource(header: ExportHeader): DescribedSource {
  const guild = header.guild;
  const channel = header.channel;
  const rawGuildId = asText(guild?.['id']);
  // DiscordChatExporter files direct messages under a pseudo-guild with id 0.
  const guildId = rawGuildId && isSnowflake(rawGuildId) && rawGuildId !== '0' ? rawGuildId : undefined;
  const channelType = asText(channel?.['type']);
  const rawChannelId = asText(channel?.['id']);
  const channelId = rawChannelId && isSnowflake(rawChannelId) ? rawChannelId : undefined;
  const name = asText(channel?.['name']) ?? 'unknown-channel';
  const parentId = asText(channel?.['categoryId']);
  const parentName = asText(channel?.['category']);

  const source: ConversationSource = { channelId: channelId ?? '', channelName: name };
  if (guildId) {
    source.guildId = guildId;
    const guildName = asText(guild?.['name']);
    if (guildName) source.guildName = guildName;
  }
  if (channelType && /Thread$/.test(channelType) && channelId) {
    source.channelId = parentId && isSnowflake(parentId) ? parentId : channelId;
    source.channelName = parentName ?? name;
    source.threadId = channelId;
    source.threadName = name;
  } else if (parentName) {
    source.channelCategory = parentName;
  }
  return { source, urlChannelId: channelId, channelType };
}

function nameDirectory(collector: ImportCollector, source: ConversationSource): NameDirectory {
  const channels: Record<string, string> = {};
  if (source.channelId) channels[source.channelId] = source.channelName;
  if (source.threadId && source.threadName) channels[source.threadId] = source.threadName;
  return {
    users: Object.fromEntries(collector.userNames),
    roles: Object.fromEntries(collector.roleNames),
    channels,
  };
}

function exportInfo(header: ExportHeader, channelType: string | undefined): ExportInfo {
  const info: ExportInfo = {};
  if (channelType) info.channelType = channelType;
  if (header.exportedAt) info.exportedAt = header.exportedAt;
  const after = asText(header.dateRange?.['after']);
  const before = asText(header.dateRange?.['before']);
  if (after || before) info.dateRange = { ...(after ? { after } : {}), ...(before ? { before } : {}) };
  if (header.declaredMessageCount !== undefined) info.declaredMessageCount = header.declaredMessageCount;
  return info;
}

/** Turns whatever stopped the pipeline into an ImportError that says where. */
function explain(error: unknown, ctx: { source: string | undefined; guard: JsonByteGuard; reader: ExportReader }): unknown {
  if (error instanceof ImportError) return error;
  if (!(error instanceof Error)) return error;
  if (error.name === 'AbortError') return error;
  const { source, guard, reader } = ctx;
  const read = reader.messagesRead;
  const last = reader.lastMessageId ? `, the last with id ${reader.lastMessageId}` : '';
  if (error.message.startsWith('Parser')) {
    const detail = error.message.replace(/^Parser (cannot parse input: |has )/, '');
    if (guard.inputEnded) {
      return new ImportError(
        'truncated',
        `the JSON ends unexpectedly after byte ${guard.bytesRead}, inside ${reader.location}; the file looks truncated (${countMessages(read)} read before the end${last})`,
        { source, byteOffset: guard.bytesRead, messagesRead: read },
        { cause: error },
      );
    }
    return new ImportError(
      'not-json',
      `invalid JSON between bytes ${guard.lastChunkStart} and ${guard.bytesRead}, inside ${reader.location} (${detail}); ${countMessages(read)} read before it${last}`,
      { source, byteOffset: guard.lastChunkStart, byteOffsetEnd: guard.bytesRead, messagesRead: read },
      { cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new ImportError('io', `cannot read the export: ${error.message}`, { source }, { cause: error });
  }
  return error;
}

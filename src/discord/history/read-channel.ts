/**
 * A channel, thread or forum post, read and readied for the summarizer:
 * history fetched within the requested window, authors named as the guild
 * knows them, converted to the conversation model and prepared.
 */
import type { GuildTextBasedChannel, Message } from 'discord.js';
import type { ConversationSource } from '../../conversation/model.ts';
import { prepareConversation, type PreparedConversation } from '../../conversation/prepare.ts';
import { categoryOf } from './channel-access.ts';
import { fetchHistory, type HistoryEnd } from './fetch-history.ts';
import type { MemberNames } from './member-names.ts';
import type { SinceBoundary } from './since.ts';
import { toConversation } from './to-conversation.ts';

export interface ReadChannelRequest {
  channel: GuildTextBasedChannel;
  maxMessages: number;
  since?: SinceBoundary;
  memberNames: MemberNames;
  /** Messages read so far, after each page. */
  onProgress?(read: number): void;
  /** Read messages left out before conversion (a chat question to the bot is not channel history). */
  skip?(message: Message<true>): boolean;
}

export interface ChannelRead {
  prepared: PreparedConversation;
  /** What the summary is of: the thread's or channel's id and name. */
  channelId: string;
  channelName: string;
  /** History requests made. */
  requests: number;
  end: HistoryEnd;
}

const MENTIONED_USER = /<@!?(\d{1,20})>/g;

export async function readChannel(request: ReadChannelRequest): Promise<ChannelRead> {
  const { channel, since } = request;
  const history = await fetchHistory<Message<true>>(
    async ({ limit, before }) => [...(await channel.messages.fetch({ limit, ...(before === undefined ? {} : { before }), cache: false })).values()],
    {
      maxMessages: request.maxMessages,
      ...(since?.kind === 'duration' ? { sinceMs: since.sinceMs } : {}),
      ...(since?.kind === 'after-message' ? { afterId: since.messageId } : {}),
    },
    request.onProgress,
  );

  const messages = request.skip === undefined ? history.messages : history.messages.filter((message) => !request.skip!(message));
  const people = new Set<string>();
  for (const message of messages) {
    people.add(message.author.id);
    for (const [, id] of message.content.matchAll(MENTIONED_USER)) if (id !== undefined) people.add(id);
  }
  await request.memberNames.load(channel.guild, people);
  const memberName = (userId: string): string | undefined => request.memberNames.nameOf(channel.guild, userId);

  const source = sourceOf(channel);
  const conversation = toConversation({ messages, source, guild: channel.guild, memberName });
  const prepared = prepareConversation(conversation, {
    maxMessages: request.maxMessages,
    ...(since?.kind === 'duration' ? { since: since.sinceMs } : {}),
  });
  return {
    prepared,
    channelId: channel.id,
    channelName: source.threadName ?? source.channelName,
    requests: history.requests,
    end: history.end,
  };
}

/** A thread is described by its parent channel plus its own id and name, as exports describe them. */
function sourceOf(channel: GuildTextBasedChannel): ConversationSource {
  const guild = { guildId: channel.guild.id, guildName: channel.guild.name };
  const category = categoryOf(channel)?.name;
  if (channel.isThread() && channel.parent !== null) {
    return {
      ...guild,
      channelId: channel.parent.id,
      channelName: channel.parent.name,
      threadId: channel.id,
      threadName: channel.name,
      ...(category === undefined ? {} : { channelCategory: category }),
    };
  }
  return { ...guild, channelId: channel.id, channelName: channel.name, ...(category === undefined ? {} : { channelCategory: category }) };
}

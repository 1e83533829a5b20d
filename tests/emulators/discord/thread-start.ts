/**
 * A thread started from a message, as Discord makes it: the thread takes the
 * message's id, the message in the parent channel gets a `thread` field, and
 * the thread opens with a THREAD_STARTER_MESSAGE (type 21) that has the
 * thread's id, no content of its own and a reference to the message in the
 * parent channel. Clients fetch the question itself from the parent channel
 * (`GET /channels/{parent}/messages/{thread id}`).
 */
import type { MessageFactory } from './message-factory.ts';
import { MessageType } from './message-factory.ts';
import { apiChannel } from './serialize.ts';
import type { DiscordState } from './state.ts';
import { ChannelType, type ApiMessage, type StoredChannel } from './model.ts';

export interface ThreadStart {
  name: string;
  /** Who starts it (the bot over REST, a member when a test says so). */
  ownerId: string;
  autoArchiveDuration?: number;
}

export function startThreadFromMessage(state: DiscordState, factory: MessageFactory, parent: StoredChannel, message: ApiMessage, start: ThreadStart): StoredChannel {
  const thread = state.addThread(parent, {
    id: message.id,
    name: start.name,
    type: parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread,
    ownerId: start.ownerId,
    autoArchiveDuration: start.autoArchiveDuration ?? 4320,
  });
  message.thread = apiChannel(state, thread);
  const starter = factory.create({
    channel: thread,
    author: state.user(message.author.id),
    body: { content: '' },
    files: [],
    atMs: Date.parse(message.timestamp),
    id: thread.id,
    type: MessageType.ThreadStarterMessage,
    extra: {
      message_reference: { type: 0, message_id: message.id, channel_id: parent.id, ...(parent.guildId ? { guild_id: parent.guildId } : {}) },
      referenced_message: structuredClone(message),
    },
  });
  state.insertMessage(starter);
  return thread;
}

/**
 * A channel, thread or forum post, read and readied for the summarizer:
 * history fetched within the requested window, authors named as the guild
 * knows them, converted to the conversation model and prepared.
 */
import type { GuildTextBasedChannel, Message } from 'discord.js';
import type { ConversationSource } from '../../conversation/model.ts';
import { prepareConversation, type PreparedConversation } from '../../conversation/prepare.ts';
import { isBlank } from '../../conversation/render-content.ts';
import { categoryOf } from './channel-access.ts';
import { fetchHistory, type HistoryEnd } from './fetch-history.ts';
import type { MemberNames } from './member-names.ts';
import type { SinceBoundary } from './since.ts';
import { toConversation, toModelMessage, type ConvertContext } from './to-conversation.ts';

export interface ReadChannelRequest {
  channel: GuildTextBasedChannel;
  /** Messages to summarize: bots' messages and notices are read past, not counted. */
  maxMessages: number;
  since?: SinceBoundary;
  memberNames: MemberNames;
  /** Messages read so far, after each page. */
  onProgress?(read: number): void;
}

export interface ChannelRead {
  prepared: PreparedConversation;
  /** What the summary is of: the thread's or channel's id and name. */
  channelId: string;
  channelName: string;
  /** History requests made. */
  requests: number;
  end: HistoryEnd;
  /** Messages read that are summarized, and read in all (the thread's starter aside). */
  counted: number;
  scanned: number;
  /** Time of the oldest message read that is summarized. */
  oldestMs?: number;
}

const MENTIONED_USER = /<@!?(\d{1,20})>/g;

/** Most history read for one summary, whatever share of it is bots': a bound on requests (⌈n / 100⌉). */
export const MAX_SCANNED = 20_000;

/** How far past the count reading goes to find members' messages among bots'. */
export function scanLimit(maxMessages: number): number {
  return Math.min(MAX_SCANNED, Math.max(maxMessages, maxMessages * 2 + 1_000));
}

export async function readChannel(request: ReadChannelRequest): Promise<ChannelRead> {
  const { channel, since } = request;
  const source = sourceOf(channel);
  const unnamed: ConvertContext = { memberName: () => undefined };
  // Counted as prepareConversation will keep it: a member's message with something to read.
  const summarized = (message: Message<true>): boolean => {
    const converted = toModelMessage(message, unnamed);
    return converted !== undefined && !converted.author.bot && !isBlank(converted);
  };
  const history = await fetchHistory<Message<true>>(
    async ({ limit, before }) => [...(await channel.messages.fetch({ limit, ...(before === undefined ? {} : { before }), cache: false })).values()],
    {
      maxMessages: request.maxMessages,
      maxScanned: scanLimit(request.maxMessages),
      counts: summarized,
      ...(since?.kind === 'duration' ? { sinceMs: since.sinceMs } : {}),
      ...(since?.kind === 'after-message' ? { fromId: since.messageId } : {}),
    },
    request.onProgress,
  );
  const oldest = history.messages.find(summarized);
  const starter = history.counted > 0 ? await threadStarter(channel) : undefined;
  const messages = starter === undefined ? history.messages : [starter, ...history.messages.filter((m) => m.id !== starter.id)];

  const people = new Set<string>();
  for (const message of messages) {
    people.add(message.author.id);
    for (const [, id] of message.content.matchAll(MENTIONED_USER)) if (id !== undefined) people.add(id);
  }
  await request.memberNames.load(channel.guild, people);
  const memberName = (userId: string): string | undefined => request.memberNames.nameOf(channel.guild, userId);

  const conversation = toConversation({ messages, source, guild: channel.guild, memberName });
  // The window and the count were applied while reading; applying them again would drop the thread's starter.
  const prepared = prepareConversation(conversation);
  return {
    prepared,
    channelId: channel.id,
    channelName: source.threadName ?? source.channelName,
    requests: history.requests,
    end: history.end,
    counted: history.counted,
    scanned: history.messages.length,
    ...(oldest === undefined ? {} : { oldestMs: oldest.createdTimestamp }),
  };
}

/**
 * The message a thread was started from (the question it answers): in the
 * parent channel with the thread's id, or a forum post's first message.
 * Undefined for threads started without one, or when it was deleted.
 */
async function threadStarter(channel: GuildTextBasedChannel): Promise<Message<true> | undefined> {
  if (!channel.isThread()) return undefined;
  const starter = await channel.fetchStarterMessage({ cache: false }).catch(() => null);
  return starter?.inGuild() ? starter : undefined;
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

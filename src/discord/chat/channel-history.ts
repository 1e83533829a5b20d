/**
 * The channel history a chat question may be answered from: the channel it
 * is asked in (in a thread, the thread and its parent channel) and the
 * channels the question names (`#channel`). A channel is read only under the
 * rules a summary of it would follow: the member who asks can read its
 * history, the bot can, and everyone who can see the thread the answer goes
 * to can read it too (the answer draws on it). Channels that fail a rule are
 * skipped with the reason, which the answer shows.
 *
 * Bounded per question: a few channels, a few hundred recent messages each,
 * and a time budget for all reads together; a read that runs out of time is
 * skipped rather than waited for.
 */
import { ChannelType, type AnyThreadChannel, type Guild, type GuildMember, type GuildTextBasedChannel, type Message, type ThreadChannel } from 'discord.js';
import type { ChannelHistory } from '../../chat/channel-context.ts';
import { UserFacingError } from '../errors.ts';
import { requireBotCanRead, requireMemberCanRead } from '../history/channel-access.ts';
import type { MemberNames } from '../history/member-names.ts';
import { readChannel } from '../history/read-channel.ts';
import { visibleToAudienceOf } from '../visibility/shown-to.ts';

export interface HistoryLimits {
  /** Channels read for one question (default 3). */
  maxChannels: number;
  /** Recent messages read from each (default 500). */
  maxMessages: number;
  /** Time for all reads together (default 8 s). */
  timeMs: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = Object.freeze({ maxChannels: 3, maxMessages: 500, timeMs: 8_000 });

export interface HistoryRequest {
  member: GuildMember;
  /** Where the question was asked: a channel, or a thread. */
  askedIn: GuildTextBasedChannel;
  /** Where the answer is posted. */
  answerIn: ThreadChannel;
  /** The question as written, with its `<#id>` channel mentions. */
  question: string;
  botId: string;
  memberNames: MemberNames;
  limits?: Partial<HistoryLimits>;
}

export interface SkippedChannel {
  channelId: string;
  reason: string;
}

export interface GatheredHistory {
  histories: ChannelHistory[];
  skipped: SkippedChannel[];
}

const CHANNEL_MENTION = /<#(\d{17,20})>/g;

/** Channel ids a question names, in order, once each. */
export function channelsNamedIn(question: string): string[] {
  return [...new Set([...question.matchAll(CHANNEL_MENTION)].map((m) => m[1]!))];
}

export async function gatherHistory(request: HistoryRequest): Promise<GatheredHistory> {
  const limits = { ...DEFAULT_HISTORY_LIMITS, ...request.limits };
  const { askedIn } = request;
  const home = askedIn.isThread() && askedIn.parent !== null && askedIn.parent.isTextBased() ? [askedIn.id, askedIn.parent.id] : [askedIn.id];
  const named = channelsNamedIn(request.question).filter((id) => !home.includes(id));
  const wanted = [...home, ...named];
  const skipped: SkippedChannel[] = wanted
    .slice(limits.maxChannels)
    .map((channelId) => ({ channelId, reason: `I search at most ${limits.maxChannels} channels per question` }));

  const deadline = Date.now() + limits.timeMs;
  const outcomes = await Promise.all(wanted.slice(0, limits.maxChannels).map((channelId) => readOne(request, channelId, limits, deadline)));
  const histories: ChannelHistory[] = [];
  for (const outcome of outcomes) {
    if ('reason' in outcome) skipped.push(outcome);
    else histories.push(outcome);
  }
  return { histories, skipped };
}

async function readOne(request: HistoryRequest, channelId: string, limits: HistoryLimits, deadline: number): Promise<ChannelHistory | SkippedChannel> {
  const skip = (reason: string): SkippedChannel => ({ channelId, reason });
  const channel = await findChannel(request.askedIn.guild, channelId);
  if (channel === undefined) return skip("I can't see it");
  if (channel.type === ChannelType.GuildForum || channel.type === ChannelType.GuildMedia) return skip('it is a forum; name one of its posts');
  if (!channel.isTextBased()) return skip('it holds no messages');
  const refused = await whyNotRead(request, channel);
  if (refused !== undefined) return skip(refused);

  const reading = readChannel({
    channel,
    maxMessages: limits.maxMessages,
    memberNames: request.memberNames,
    skip: (message) => isQuestionToBot(message, request.botId),
  });
  const left = deadline - Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, left));
  });
  try {
    const read = await Promise.race([reading, outOfTime]);
    if (read === 'timeout') {
      // The read goes on in the background, bounded by its message count; nothing waits for it.
      reading.catch(() => undefined);
      return skip('reading it took too long');
    }
    return { channelId: channel.id, channelName: read.channelName, prepared: read.prepared };
  } catch {
    return skip('reading its history failed');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The channels among `histories` whose history may no longer be drawn on
 * for this answer, with why: permissions change while an answer is written,
 * and what is shown is what counts.
 */
export async function noLongerReadable(request: HistoryRequest, histories: readonly ChannelHistory[]): Promise<SkippedChannel[]> {
  const refused: SkippedChannel[] = [];
  for (const history of histories) {
    const channel = await findChannel(request.askedIn.guild, history.channelId);
    const reason = channel === undefined || !channel.isTextBased() ? "I can't see it any more" : await whyNotRead(request, channel);
    if (reason !== undefined) refused.push({ channelId: history.channelId, reason });
  }
  return refused;
}

/** Why this answer may not draw on `channel`, or undefined when it may. */
async function whyNotRead(request: HistoryRequest, channel: GuildTextBasedChannel): Promise<string | undefined> {
  try {
    await requireMemberCanRead(channel, request.member, channel.id === request.askedIn.id);
  } catch (error) {
    if (error instanceof UserFacingError) return "you can't read its history";
    throw error;
  }
  try {
    await requireBotCanRead(channel);
  } catch (error) {
    if (error instanceof UserFacingError) return "I can't read its history";
    throw error;
  }
  if (channel.id === request.answerIn.id) return undefined;
  const shown = await visibleToAudienceOf(request.answerIn as AnyThreadChannel, channel);
  return shown.visible ? undefined : 'not everyone who can see this thread can read it';
}

async function findChannel(guild: Guild, channelId: string) {
  // Threads are cached only while active; anything else the bot does not know it cannot see.
  return guild.channels.cache.get(channelId) ?? (await guild.channels.fetch(channelId).catch(() => null)) ?? undefined;
}

/** Earlier questions to the bot are the chat's memory, not what the channel says. */
function isQuestionToBot(message: Message<true>, botId: string): boolean {
  return message.content.includes(`<@${botId}>`) || message.content.includes(`<@!${botId}>`);
}

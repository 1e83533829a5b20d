/**
 * What /ask and mentions share: asking the chat engine in a thread's memory,
 * with the channel history the question may be answered from, and laying
 * the answer out as thread messages within Discord's limits, its citations
 * as jump links and a line saying which channels were searched or skipped.
 */
import {
  ChannelType,
  PermissionFlagsBits,
  ThreadAutoArchiveDuration,
  type GuildMember,
  type GuildTextBasedChannel,
  type Message,
  type MessageCreateOptions,
  type ThreadChannel,
} from 'discord.js';
import type { ChatAnswer } from '../../chat/chat.ts';
import { renderCitations } from '../../summaries/citation-render.ts';
import type { MemberNames } from '../history/member-names.ts';
import { discordCitationStyle } from '../output/citation-style.ts';
import { gatherHistory, noLongerReadable, type GatheredHistory, type HistoryRequest } from './channel-history.ts';
import { ChatError } from '../../summaries/errors.ts';
import type { Logger } from '../../log/logger.ts';
import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';
import { truncate } from '../format/text.ts';
import { chatFailureText } from '../output/failure-text.ts';
import { splitMarkdown } from '../output/split-markdown.ts';
import type { BotServices } from '../services.ts';

export interface QuestionContext {
  services: BotServices;
  correlationId: string;
  logger: Logger;
}

export interface Question {
  thread: ThreadChannel;
  userId: string;
  userName: string;
  text: string;
  locale?: string;
  /** Who asks; what they may read bounds the history searched. */
  member: GuildMember;
  /** The channel or thread the question was asked in. */
  askedIn: GuildTextBasedChannel;
  /** The question as written, channel mentions included (default: `text`). */
  rawText?: string;
  botId: string;
  memberNames: MemberNames;
}

export interface AnsweredQuestion {
  answer: ChatAnswer;
  /** The channels searched for it, and those skipped with why. */
  history: GatheredHistory;
}

/** The engine's answer, its memory being the thread's. @throws UserFacingError on any ChatError. */
export async function askInThread(ctx: QuestionContext, question: Question): Promise<AnsweredQuestion> {
  const { thread } = question;
  const request: HistoryRequest = {
    member: question.member,
    askedIn: question.askedIn,
    answerIn: thread,
    question: question.rawText ?? question.text,
    botId: question.botId,
    memberNames: question.memberNames,
  };
  const history = await gatherHistory(request);
  let answer: ChatAnswer;
  try {
    answer = await ctx.services.chat.ask({
      guildId: thread.guild.id,
      channelId: thread.id,
      userId: question.userId,
      userName: question.userName,
      question: question.text,
      correlationId: ctx.correlationId,
      guildName: thread.guild.name,
      channelName: thread.name,
      ...(question.locale === undefined ? {} : { locale: question.locale }),
      history: history.histories,
    });
  } catch (error) {
    if (error instanceof ChatError) throw new UserFacingError(chatFailureText(error), { cause: error });
    throw error;
  }
  // Checked again as the answer is shown: an answer that may draw on a channel since closed to its readers is not posted.
  const closed = await noLongerReadable(request, history.histories.filter((h) => h.prepared.messages.length > 0));
  if (closed.length > 0) {
    throw new UserFacingError(`Permissions changed while I was answering (<#${closed[0]!.channelId}>: ${closed[0]!.reason}), so I won't post the answer. Ask again.`);
  }
  return { answer, history };
}

const MAX_NOTES = 3;

/**
 * The answer as message contents of at most 2,000 characters, its citations
 * as jump links, with small lines naming the channels searched, any
 * warnings, and the model.
 */
export function answerParts(answer: ChatAnswer, lead?: string, history?: GatheredHistory): string[] {
  const notes = answer.warnings.slice(0, MAX_NOTES).map((w) => `-# ⚠ ${truncate(w.replace(/\s+/g, ' '), 300)}`);
  const body = answer.text.trim() === '' ? '(The model returned an empty answer.)' : renderCitations(answer.text, answer.citations, discordCitationStyle);
  const sources = history === undefined ? [] : sourceLines(history);
  const text = [lead, body, [...sources, ...notes, `-# ${answer.provider}/${answer.model}`].join('\n')]
    .filter((part): part is string => part !== undefined && part !== '')
    .join('\n\n');
  return splitMarkdown(text, DiscordLimits.content);
}

/** `-# Searched <#1> (120 recent messages), <#2> (40 recent messages)` and a line per skipped channel; channel mentions render as names. */
export function sourceLines(history: GatheredHistory): string[] {
  const lines: string[] = [];
  // A channel with nothing to read (a new thread) would only add noise.
  const read = history.histories.filter((h) => h.prepared.messages.length > 0);
  if (read.length > 0) lines.push(`-# Searched ${read.map((h) => `<#${h.channelId}> (${plural(h.prepared.messages.length, 'recent message')})`).join(', ')}`);
  for (const skipped of history.skipped) lines.push(`-# Skipped <#${skipped.channelId}>: ${skipped.reason}`);
  return lines;
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}

/** "**Alice** asked:" and the question quoted, bounded so the answer keeps its room. */
export function questionLead(userName: string, question: string): string {
  // A fence left open in the question would swallow the answer below it.
  const quoted = truncate(question.trim().replaceAll('```', '`\u200b``'), 600)
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
  return `**${truncate(userName.replace(/[*_~`|\\]/g, ''), 80)}** asked:\n${quoted}`;
}

/** Where answers go: a thread, or any channel that takes messages. */
export interface MessageTarget {
  send(options: MessageCreateOptions): Promise<Message>;
}

/** Sends each part in order; none may ping anyone. */
export async function sendParts(channel: MessageTarget, parts: readonly string[], replyTo?: Message): Promise<Message[]> {
  const sent: Message[] = [];
  for (const [index, content] of parts.entries()) {
    const payload = { content, allowedMentions: { parse: [], repliedUser: false } };
    sent.push(index === 0 && replyTo !== undefined ? await replyTo.reply(payload) : await channel.send(payload));
  }
  return sent;
}

/** A thread name from the question: its first line, at most 100 characters. */
export function threadNameFor(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  return truncate(line === '' ? 'Question' : line, 100);
}

export const THREAD_ARCHIVE = ThreadAutoArchiveDuration.OneDay;

/** Channels where the bot can start a public thread for a conversation. */
export function canHoldThreads(channel: GuildTextBasedChannel): channel is Extract<GuildTextBasedChannel, { type: ChannelType.GuildText | ChannelType.GuildAnnouncement }> {
  return channel.type === ChannelType.GuildText || channel.type === ChannelType.GuildAnnouncement;
}

/** The permissions the bot needs to hold a conversation here; the names of those it lacks. */
export function missingChatPermissions(channel: GuildTextBasedChannel, inThread: boolean): string[] {
  const me = channel.guild.members.me;
  if (me === null) return ['View Channel'];
  const have = channel.permissionsFor(me);
  const needed: Array<[bigint, string]> = inThread
    ? [
        [PermissionFlagsBits.ViewChannel, 'View Channel'],
        [PermissionFlagsBits.SendMessagesInThreads, 'Send Messages in Threads'],
      ]
    : [
        [PermissionFlagsBits.ViewChannel, 'View Channel'],
        [PermissionFlagsBits.CreatePublicThreads, 'Create Public Threads'],
        [PermissionFlagsBits.SendMessagesInThreads, 'Send Messages in Threads'],
      ];
  return needed.filter(([bit]) => !have.has(bit)).map(([, name]) => name);
}

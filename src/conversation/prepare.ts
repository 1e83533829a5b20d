import type { Conversation, ConversationSource, Message, NameDirectory, Reaction } from './model.ts';
import { isBlank, renderMessageText, type NameLookup } from './render-content.ts';
import { compareSnowflakes } from './snowflake.ts';
import { safeName } from './text-safety.ts';

/**
 * Readies a conversation for a summary: one clean, chronological list of the
 * messages worth reading, each with a stable reference number the model can
 * cite and that maps back to the Discord message.
 *
 * Steps, in order: drop repeated ids (first copy wins); sort by time, then id
 * as a number; keep the time window; drop bots unless asked; drop messages
 * with nothing to read; keep the most recent `maxMessages`; number the rest
 * from 1.
 */

export interface PrepareOptions {
  /** Keep messages from bots and apps (default false). */
  includeBots?: boolean;
  /** Keep messages at or after this time (epoch ms). */
  since?: number;
  /** Keep messages before this time (epoch ms, exclusive). */
  until?: number;
  /** Keep only the most recent N messages that pass the other filters. */
  maxMessages?: number;
  /** Longest message text kept, in characters (default 4,000, Discord's own maximum). */
  maxMessageChars?: number;
  /** Extra names for ids in member text, e.g. from the bot's cache; the conversation's own names take precedence. */
  names?: NameDirectory;
}

type DropReason = 'duplicate' | 'outside-window' | 'bot' | 'empty' | 'over-cap';

export type ReplyTarget =
  /** The replied-to message is in this transcript. */
  | { kind: 'in-transcript'; ref: number }
  /** It is not (older, filtered out, or elsewhere); its author when known. */
  | { kind: 'earlier'; authorName?: string };

export interface PreparedMessage {
  /** 1-based, in chronological order. */
  ref: number;
  id: string;
  authorId: string;
  /** Safe to print: sanitised, and made unique among participants ("Alex (2)"). */
  authorName: string;
  bot: boolean;
  timestamp: number;
  /** Rendered text with markers, control characters removed; may contain line breaks. */
  text: string;
  reply?: ReplyTarget;
  reactions: Reaction[];
  notice?: string;
  jumpUrl?: string;
}

export interface Citation {
  messageId: string;
  jumpUrl?: string;
  authorName: string;
  timestamp: number;
}

interface Participant {
  id: string;
  name: string;
  bot: boolean;
  messages: number;
}

export interface PrepareStats {
  /** Messages in the conversation given. */
  input: number;
  kept: number;
  dropped: Record<DropReason, number>;
  /** Authors of kept messages, most active first. */
  participants: Participant[];
  firstTimestamp?: number;
  lastTimestamp?: number;
}

export interface PreparedConversation {
  source: ConversationSource;
  messages: PreparedMessage[];
  /** Reference number → the message it stands for. */
  citations: ReadonlyMap<number, Citation>;
  stats: PrepareStats;
}

const DEFAULT_MAX_MESSAGE_CHARS = 4_000;

export function prepareConversation(conversation: Conversation, options: PrepareOptions = {}): PreparedConversation {
  checkOptions(options);
  const dropped: Record<DropReason, number> = { duplicate: 0, 'outside-window': 0, bot: 0, empty: 0, 'over-cap': 0 };

  const unique = dropDuplicates(conversation.messages, dropped);
  unique.sort((a, b) => a.timestamp - b.timestamp || compareSnowflakes(a.id, b.id));
  const byId = new Map(unique.map((m) => [m.id, m]));

  let kept = unique.filter((m) => {
    const inside = (options.since === undefined || m.timestamp >= options.since) && (options.until === undefined || m.timestamp < options.until);
    if (!inside) dropped['outside-window']++;
    return inside;
  });
  kept = kept.filter((m) => {
    const keep = options.includeBots === true || !m.author.bot;
    if (!keep) dropped.bot++;
    return keep;
  });
  kept = kept.filter((m) => {
    const keep = !isBlank(m);
    if (!keep) dropped.empty++;
    return keep;
  });
  if (options.maxMessages !== undefined && kept.length > options.maxMessages) {
    dropped['over-cap'] += kept.length - options.maxMessages;
    kept = kept.slice(kept.length - options.maxMessages);
  }

  const names = participantNames(kept);
  const lookup = nameLookup(conversation, options.names, names);
  const refs = new Map(kept.map((m, i) => [m.id, i + 1]));
  const maxChars = options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;

  const messages = kept.map((m, i): PreparedMessage => {
    const prepared: PreparedMessage = {
      ref: i + 1,
      id: m.id,
      authorId: m.author.id,
      authorName: names.get(m.author.id) ?? safeName(m.author.displayName),
      bot: m.author.bot,
      timestamp: m.timestamp,
      text: renderMessageText(m, lookup, maxChars),
      reactions: m.reactions.map((r) => ({ emoji: safeName(r.emoji, 32), count: r.count })),
    };
    const reply = m.replyTo !== undefined ? replyTarget(m.replyTo, refs, byId, names) : undefined;
    if (reply) prepared.reply = reply;
    if (m.notice !== undefined) prepared.notice = m.notice;
    if (m.jumpUrl !== undefined) prepared.jumpUrl = m.jumpUrl;
    return prepared;
  });

  const citations = new Map<number, Citation>(
    messages.map((m) => [m.ref, { messageId: m.id, authorName: m.authorName, timestamp: m.timestamp, ...(m.jumpUrl ? { jumpUrl: m.jumpUrl } : {}) }]),
  );
  return {
    source: conversation.source,
    messages,
    citations,
    stats: {
      input: conversation.messages.length,
      kept: messages.length,
      dropped,
      participants: participants(kept, names),
      ...(messages.length > 0 ? { firstTimestamp: messages[0]!.timestamp, lastTimestamp: messages.at(-1)!.timestamp } : {}),
    },
  };
}

function checkOptions(options: PrepareOptions): void {
  for (const key of ['since', 'until'] as const) {
    const value = options[key];
    if (value !== undefined && !Number.isFinite(value)) throw new RangeError(`prepareConversation: ${key} must be a time in epoch milliseconds, got ${value}`);
  }
  if (options.since !== undefined && options.until !== undefined && options.since >= options.until) {
    throw new RangeError('prepareConversation: since must be earlier than until');
  }
  for (const key of ['maxMessages', 'maxMessageChars'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw new RangeError(`prepareConversation: ${key} must be a positive whole number, got ${value}`);
  }
}

function dropDuplicates(messages: readonly Message[], dropped: Record<DropReason, number>): Message[] {
  const seen = new Set<string>();
  const out: Message[] = [];
  for (const m of messages) {
    if (seen.has(m.id)) {
      dropped.duplicate++;
      continue;
    }
    seen.add(m.id);
    out.push(m);
  }
  return out;
}

/**
 * One printable name per author id. Two people can share a display name (two
 * "Alex", several "Deleted User"), and a summary must not merge them: later
 * ones get " (2)", " (3)" in order of first appearance.
 */
function participantNames(messages: readonly Message[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Map<string, number>();
  for (const { author } of messages) {
    if (names.has(author.id)) continue;
    const base = safeName(author.displayName);
    const key = base.toLowerCase();
    const seen = taken.get(key) ?? 0;
    taken.set(key, seen + 1);
    names.set(author.id, seen === 0 ? base : `${base} (${seen + 1})`);
  }
  return names;
}

function nameLookup(conversation: Conversation, extra: NameDirectory | undefined, participants: ReadonlyMap<string, string>): NameLookup {
  const own = conversation.names;
  const mentioned = new Map<string, string>();
  for (const m of conversation.messages) for (const mention of m.mentions) if (!mentioned.has(mention.id)) mentioned.set(mention.id, mention.displayName);
  const channels = { ...extra?.channels, ...own?.channels };
  if (conversation.source.channelId) channels[conversation.source.channelId] ??= conversation.source.channelName;
  const pick = (table: Record<string, string> | undefined, id: string): string | undefined => (table && Object.hasOwn(table, id) ? table[id] : undefined);
  return {
    user: (id) => {
      const known = participants.get(id);
      if (known) return known;
      const name = mentioned.get(id) ?? pick(own?.users, id) ?? pick(extra?.users, id);
      return name === undefined ? undefined : safeName(name);
    },
    channel: (id) => {
      const name = pick(channels, id);
      return name === undefined ? undefined : safeName(name);
    },
    role: (id) => {
      const name = pick(own?.roles, id) ?? pick(extra?.roles, id);
      return name === undefined ? undefined : safeName(name);
    },
  };
}

function replyTarget(id: string, refs: ReadonlyMap<string, number>, all: ReadonlyMap<string, Message>, names: ReadonlyMap<string, string>): ReplyTarget {
  const ref = refs.get(id);
  if (ref !== undefined) return { kind: 'in-transcript', ref };
  const original = all.get(id);
  if (!original) return { kind: 'earlier' };
  return { kind: 'earlier', authorName: names.get(original.author.id) ?? safeName(original.author.displayName) };
}

function participants(messages: readonly Message[], names: ReadonlyMap<string, string>): Participant[] {
  const byId = new Map<string, Participant>();
  for (const { author } of messages) {
    const known = byId.get(author.id);
    if (known) known.messages++;
    else byId.set(author.id, { id: author.id, name: names.get(author.id) ?? safeName(author.displayName), bot: author.bot, messages: 1 });
  }
  return [...byId.values()].sort((a, b) => b.messages - a.messages || a.name.localeCompare(b.name));
}

/**
 * Reads a channel's history backwards from the newest message, one page of
 * at most 100 (Discord's maximum) per request, until enough messages that
 * count were read, the time window or the boundary message is passed, the
 * channel's start, or the most a summary reads in all. Messages that do not
 * count (bots', system notices) are read past, not counted, so `maxMessages`
 * means that many messages to summarize. Pages are full unless fewer
 * messages are still wanted, so requests stay near ⌈messages read / 100⌉,
 * and reading never goes past `maxScanned`.
 */
import { compareSnowflakes } from '../../conversation/snowflake.ts';
import type { ReadEnd } from '../../summaries/history-cut.ts';

const PAGE_SIZE = 100;

/** What paging needs of a message. */
export interface HistoryItem {
  id: string;
  createdTimestamp: number;
}

/** One request: up to `limit` messages older than `before` (the newest when absent), newest first. */
export type FetchPage<T extends HistoryItem> = (request: { limit: number; before?: string }) => Promise<readonly T[]>;

export interface HistoryWindow<T extends HistoryItem = HistoryItem> {
  /** Most messages that count to read. */
  maxMessages: number;
  /** Most messages to read in all (default `maxMessages`). */
  maxScanned?: number;
  /** Whether a message counts toward `maxMessages` (default: every message does). */
  counts?: (message: T) => boolean;
  /** Keep messages at or after this time (epoch ms). */
  sinceMs?: number;
  /** Keep this message and those after it. */
  fromId?: string;
}

/**
 * Why reading stopped: `count` (maxMessages counted), `window` (the time or
 * message boundary), `channel-start`, or `scan-limit` (maxScanned read
 * before maxMessages counted).
 */
export type HistoryEnd = ReadEnd;

export interface FetchedHistory<T extends HistoryItem> {
  /** Oldest first: every message read, counted or not. */
  messages: T[];
  /** How many of them count. */
  counted: number;
  requests: number;
  /** Why reading stopped. */
  end: HistoryEnd;
}

export async function fetchHistory<T extends HistoryItem>(
  fetchPage: FetchPage<T>,
  window: HistoryWindow<T>,
  onPage?: (read: number) => void,
): Promise<FetchedHistory<T>> {
  const maxScanned = window.maxScanned ?? window.maxMessages;
  for (const [name, value] of [['maxMessages', window.maxMessages], ['maxScanned', maxScanned]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive whole number, got ${value}`);
  }
  const counts = window.counts ?? (() => true);
  const newestFirst: T[] = [];
  let counted = 0;
  let before: string | undefined;
  let requests = 0;
  while (newestFirst.length < maxScanned) {
    // Ask for the messages still wanted, plus as many as were read past so far (they predict how many more will not count).
    const wanted = window.maxMessages - counted + (newestFirst.length - counted);
    const limit = Math.min(PAGE_SIZE, wanted, maxScanned - newestFirst.length);
    const page = await fetchPage({ limit, ...(before === undefined ? {} : { before }) });
    requests++;
    // Pages are newest first, but nothing guarantees it: order them rather than trust it.
    const ordered = [...page].sort((a, b) => compareSnowflakes(b.id, a.id));
    for (const message of ordered) {
      if (window.fromId !== undefined && compareSnowflakes(message.id, window.fromId) < 0) return done('window');
      if (window.sinceMs !== undefined && message.createdTimestamp < window.sinceMs) return done('window');
      newestFirst.push(message);
      if (counts(message)) counted++;
      if (counted >= window.maxMessages) return done('count');
      if (newestFirst.length >= maxScanned) return done('scan-limit');
    }
    onPage?.(newestFirst.length);
    const oldest = ordered.at(-1);
    if (page.length < limit || oldest === undefined) return done('channel-start');
    before = oldest.id;
  }
  return done('scan-limit');

  function done(end: HistoryEnd): FetchedHistory<T> {
    return { messages: newestFirst.reverse(), counted, requests, end };
  }
}

/**
 * Reads a channel's history backwards from the newest message, one page of
 * at most 100 (Discord's maximum) per request, until the count is reached,
 * the time window or the boundary message is passed, or the channel's start.
 * The number of requests is bounded by the count: ⌈count / 100⌉.
 */
import { compareSnowflakes } from '../../conversation/snowflake.ts';

const PAGE_SIZE = 100;

/** What paging needs of a message. */
export interface HistoryItem {
  id: string;
  createdTimestamp: number;
}

/** One request: up to `limit` messages older than `before` (the newest when absent), newest first. */
export type FetchPage<T extends HistoryItem> = (request: { limit: number; before?: string }) => Promise<readonly T[]>;

export interface HistoryWindow {
  /** Most messages to read. */
  maxMessages: number;
  /** Keep messages at or after this time (epoch ms). */
  sinceMs?: number;
  /** Keep only messages after this one. */
  afterId?: string;
}

export type HistoryEnd = 'count' | 'window' | 'channel-start';

export interface FetchedHistory<T extends HistoryItem> {
  /** Oldest first. */
  messages: T[];
  requests: number;
  /** Why reading stopped. */
  end: HistoryEnd;
}

export async function fetchHistory<T extends HistoryItem>(
  fetchPage: FetchPage<T>,
  window: HistoryWindow,
  onPage?: (read: number) => void,
): Promise<FetchedHistory<T>> {
  if (!Number.isSafeInteger(window.maxMessages) || window.maxMessages < 1) throw new RangeError(`maxMessages must be a positive whole number, got ${window.maxMessages}`);
  const newestFirst: T[] = [];
  const maxRequests = Math.ceil(window.maxMessages / PAGE_SIZE);
  let before: string | undefined;
  let requests = 0;
  while (requests < maxRequests) {
    const limit = Math.min(PAGE_SIZE, window.maxMessages - newestFirst.length);
    const page = await fetchPage({ limit, ...(before === undefined ? {} : { before }) });
    requests++;
    // Pages are newest first, but nothing guarantees it: order them rather than trust it.
    const ordered = [...page].sort((a, b) => compareSnowflakes(b.id, a.id));
    for (const message of ordered) {
      if (window.afterId !== undefined && compareSnowflakes(message.id, window.afterId) <= 0) return done('window');
      if (window.sinceMs !== undefined && message.createdTimestamp < window.sinceMs) return done('window');
      newestFirst.push(message);
      if (newestFirst.length >= window.maxMessages) return done('count');
    }
    onPage?.(newestFirst.length);
    const oldest = ordered.at(-1);
    if (page.length < limit || oldest === undefined) return done('channel-start');
    before = oldest.id;
  }
  return done('count');

  function done(end: HistoryEnd): FetchedHistory<T> {
    return { messages: newestFirst.reverse(), requests, end };
  }
}

import { SnowflakeUtil } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../src/discord/errors.ts';
import { fetchHistory, type HistoryItem } from '../../src/discord/history/fetch-history.ts';
import { mappedCategory } from '../../src/discord/history/category-map.ts';
import { parseSince } from '../../src/discord/history/since.ts';
import { questionLead } from '../../src/discord/chat/conversation.ts';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

describe('parseSince', () => {
  it('reads durations back from now, up to 14 days', () => {
    expect(parseSince('2h', NOW)).toEqual({ kind: 'duration', sinceMs: NOW - 7_200_000, durationMs: 7_200_000 });
    expect(parseSince(' 1h30m ', NOW)).toMatchObject({ sinceMs: NOW - 5_400_000 });
    expect(() => parseSince('15d', NOW)).toThrow(/longer than the maximum of 2w/);
    expect(() => parseSince('90', NOW)).toThrow(/add a unit/);
  });

  const linkedId = SnowflakeUtil.generate({ timestamp: NOW - 60_000 }).toString();
  it.each([
    `https://discord.com/channels/111/222/${linkedId}`,
    `https://ptb.discord.com/channels/111/222/${linkedId}`,
    `<https://discordapp.com/channels/111/222/${linkedId}>`,
  ])('reads the message link %s as "after that message"', (link) => {
    expect(parseSince(link, NOW)).toEqual({ kind: 'after-message', guildId: '111', channelId: '222', messageId: linkedId, sinceMs: NOW - 60_000 });
  });

  it('refuses links that are not message links, DMs and messages from the future', () => {
    const refused = (text: string): string => {
      try {
        parseSince(text, NOW);
      } catch (error) {
        expect(error).toBeInstanceOf(UserFacingError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refused('https://evil.example/channels/1/2/3')).toMatch(/takes a message link/);
    expect(refused('https://discord.com/channels/111/222')).toMatch(/takes a message link/);
    expect(refused('https://discord.com/channels/@me/222/333')).toMatch(/not point to a message on this server/);
    const future = SnowflakeUtil.generate({ timestamp: NOW + 3_600_000 }).toString();
    expect(refused(`https://discord.com/channels/111/222/${future}`)).toMatch(/from the future/);
  });
});

describe('fetchHistory', () => {
  /** A channel of `total` messages one minute apart; pages newest first, as Discord serves them. */
  function channel(total: number) {
    const messages: HistoryItem[] = Array.from({ length: total }, (_, i) => ({ id: String(1_000 + i), createdTimestamp: NOW - (total - i) * 60_000 }));
    const requests: Array<{ limit: number; before?: string }> = [];
    const fetchPage = async (request: { limit: number; before?: string }) => {
      requests.push(request);
      const older = request.before === undefined ? messages : messages.filter((m) => Number(m.id) < Number(request.before));
      return older.slice(-request.limit).reverse();
    };
    return { messages, requests, fetchPage };
  }

  it('stops at the count, one request per 100', async () => {
    const c = channel(1_000);
    const read = await fetchHistory(c.fetchPage, { maxMessages: 250 });
    expect(read.messages.map((m) => m.id)).toEqual(c.messages.slice(-250).map((m) => m.id));
    expect(c.requests.map((r) => r.limit)).toEqual([100, 100, 50]);
    expect(read).toMatchObject({ requests: 3, end: 'count' });
  });

  it('stops at the time window, and at the boundary message, without reading further', async () => {
    const c = channel(1_000);
    const windowed = await fetchHistory(c.fetchPage, { maxMessages: 10_000, sinceMs: NOW - 150 * 60_000 });
    expect(windowed.messages).toHaveLength(150);
    expect(windowed).toMatchObject({ requests: 2, end: 'window' });

    const d = channel(1_000);
    const after = await fetchHistory(d.fetchPage, { maxMessages: 10_000, fromId: '1850' });
    expect(after.messages.map((m) => m.id)).toEqual(d.messages.slice(850).map((m) => m.id));
    expect(after).toMatchObject({ requests: 2, end: 'window' });
  });

  it('stops at the start of a short channel', async () => {
    const c = channel(130);
    const read = await fetchHistory(c.fetchPage, { maxMessages: 10_000 });
    expect(read).toMatchObject({ requests: 2, end: 'channel-start' });
    expect(read.messages).toHaveLength(130);
  });
});

describe('category map and question quotes', () => {
  it('maps a Discord category by id first, then by name', () => {
    const map = new Map([
      ['42', 'meeting'],
      ['support desk', 'moderation'],
    ]);
    expect(mappedCategory(map, { id: '42', name: 'Whatever' })).toBe('meeting');
    expect(mappedCategory(map, { id: '7', name: ' Support Desk ' })).toBe('moderation');
    expect(mappedCategory(map, { id: '7', name: 'other' })).toBeUndefined();
    expect(mappedCategory(map, null)).toBeUndefined();
  });

  it('quotes a question so that it cannot open a code block over the answer', () => {
    const lead = questionLead('Al*ice*', 'see ```js\nthis');
    expect(lead).toBe('**Alice** asked:\n> see `\u200b``js\n> this');
    expect(lead.includes('```')).toBe(false);
  });
});

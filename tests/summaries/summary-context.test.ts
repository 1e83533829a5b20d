/**
 * The one prompt context: which variables there are and where each gets its
 * value, the defaults a summary request falls back on, and the
 * normalisation of category, type and perspective.
 */
import { describe, expect, it } from 'vitest';
import { prepareConversation } from '../../src/conversation/prepare.ts';
import { SUMMARY_DEFAULTS, promptContext, routeChoice, summaryChoices, summaryContext } from '../../src/summaries/summary-context.ts';
import type { PromptContext } from '../../src/prompts/types.ts';
import { CONTEXT_DEFAULTS, CONTEXT_VARIABLES, contextValue, variableValue } from '../../src/prompts/variables.ts';
import { conversationOf, messageAt } from './support.ts';

const NOW = Date.UTC(2026, 2, 14, 9, 30);

/** A context with every field set to a value of its own. */
const FULL: Required<PromptContext> = {
  guild_id: 'g-1',
  guild_name: 'Acme',
  channel_id: 'c-1',
  channel_name: 'dev-chat',
  category: 'meeting',
  type: 'detailed',
  perspective: 'developer',
  message_count: 42,
  date: '2026-03-14',
  time_range: '2026-03-14 08:00 UTC – 2026-03-14 09:00 UTC',
  locale: 'en-GB',
  user: 'Ally',
};

describe('context variables', () => {
  it('are the ones the prompt-repository contract lists, in its order', () => {
    expect(CONTEXT_VARIABLES).toEqual([
      'guild',
      'guild_id',
      'guild_name',
      'channel',
      'channel_id',
      'channel_name',
      'category',
      'type',
      'summary_type',
      'perspective',
      'message_count',
      'date',
      'time_range',
      'locale',
      'user',
    ]);
  });

  it('each have a value in a full context, and each context field is a variable of its own name', () => {
    for (const name of CONTEXT_VARIABLES) expect(contextValue(FULL, name), name).toBeDefined();
    for (const [field, value] of Object.entries(FULL)) expect(contextValue(FULL, field)).toBe(String(value));
  });

  it.each([
    ['guild', { guild_name: 'Acme', guild_id: 'g-1' }, 'Acme'],
    ['guild', { guild_id: 'g-1' }, 'g-1'],
    ['channel', { channel_name: 'dev-chat', channel_id: 'c-1' }, 'dev-chat'],
    ['channel', { channel_name: '', channel_id: 'c-1' }, 'c-1'],
    ['summary_type', { type: 'brief' }, 'brief'],
    ['message_count', { message_count: 0 }, '0'],
    ['message_count', { message_count: Number.NaN }, undefined],
    ['user', { user: '' }, undefined],
    ['messages', FULL, undefined],
    ['constructor', FULL, undefined],
    ['toString', FULL, undefined],
  ] as Array<[string, PromptContext, string | undefined]>)('%s of %j is %s', (name, ctx, expected) => {
    expect(contextValue(ctx, name)).toBe(expected);
  });

  it('fall back on the repository default, then the contract default', () => {
    expect(variableValue({}, 'perspective', { perspective: 'executive' })).toBe('executive');
    expect(variableValue({}, 'perspective', {})).toBe(CONTEXT_DEFAULTS.perspective);
    expect(variableValue({}, 'category', {})).toBe(CONTEXT_DEFAULTS.category);
    expect(variableValue({ category: 'meeting' }, 'category', { category: 'chat' })).toBe('meeting');
    expect(variableValue({}, 'type', {})).toBeUndefined();
  });
});

describe('summaryContext', () => {
  it('fills category, type and perspective from the one set of defaults', () => {
    expect(SUMMARY_DEFAULTS).toEqual({ category: 'discussion', type: 'brief', perspective: 'general' });
    expect(summaryChoices({})).toEqual(SUMMARY_DEFAULTS);
    expect(summaryContext({ channelId: 'c-1', channelName: 'dev-chat' }, NOW)).toEqual({
      channel_id: 'c-1',
      channel_name: 'dev-chat',
      category: 'discussion',
      type: 'brief',
      perspective: 'general',
      date: '2026-03-14',
    });
  });

  it.each([
    ['Action Items', 'action_items'],
    ['  action\titems ', 'action_items'],
    ['BRIEF', 'brief'],
    ['   ', undefined],
    ['', undefined],
    [null, undefined],
  ] as Array<[string | null, string | undefined]>)('normalises %j to %j', (raw, expected) => {
    expect(routeChoice(raw)).toBe(expected);
    expect(summaryChoices({ type: raw ?? undefined }).type).toBe(expected ?? SUMMARY_DEFAULTS.type);
  });

  it('carries every request field, and the message count and time range of the conversation', () => {
    const prepared = prepareConversation(conversationOf([messageAt(1, 'first'), messageAt(2, 'second'), messageAt(3, 'third')]));
    const context = summaryContext(
      {
        guildId: 'g-1',
        guildName: 'Acme',
        channelId: 'c-1',
        channelName: 'dev-chat',
        category: 'Meeting',
        type: 'Action Items',
        perspective: 'developer',
        userName: 'Ally',
        locale: 'en-GB',
      },
      NOW,
      prepared,
    );
    expect(context).toMatchObject({
      guild_id: 'g-1',
      guild_name: 'Acme',
      channel_id: 'c-1',
      channel_name: 'dev-chat',
      category: 'meeting',
      type: 'action_items',
      perspective: 'developer',
      message_count: 3,
      date: '2026-03-14',
      locale: 'en-GB',
      user: 'Ally',
    });
    expect(context.time_range).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC – \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    // Every variable has a value: nothing a summary could route on is missing.
    for (const name of CONTEXT_VARIABLES) expect(contextValue(context, name), name).toBeDefined();
  });
});

describe('promptContext', () => {
  it('leaves out what the request leaves out, so repository defaults still apply', () => {
    const context = promptContext({ guildId: 'g-1', channelId: 'c-1', category: 'chat', type: 'chat', userName: 'Ally' }, NOW);
    expect(context).toEqual({ guild_id: 'g-1', channel_id: 'c-1', category: 'chat', type: 'chat', date: '2026-03-14', user: 'Ally' });
    expect(Object.hasOwn(context, 'perspective')).toBe(false);
    expect(variableValue(context, 'perspective', { perspective: 'support' })).toBe('support');
  });
});

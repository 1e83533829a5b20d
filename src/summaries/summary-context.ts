/**
 * The one place a request becomes the context the guild's prompt router
 * sees: /summarize, `/prompt-config test`, the CLI and chat all build it
 * here, so what `/prompt-config test` shows is what a summary gets.
 */
import type { PreparedConversation } from '../conversation/prepare.ts';
import { formatUtcMinute } from '../conversation/timestamp.ts';
import type { PromptContext } from '../prompts/types.ts';
import { CONTEXT_DEFAULTS } from '../prompts/variables.ts';

/** What a summary is when its request leaves these out: the contract's defaults, and a brief. */
export const SUMMARY_DEFAULTS = Object.freeze({ ...CONTEXT_DEFAULTS, type: 'brief' } as const);

/** Who asks, where, for what: everything a prompt context holds besides what the messages tell. */
export interface PromptRequest {
  guildId?: string | undefined;
  guildName?: string | undefined;
  channelId?: string | undefined;
  channelName?: string | undefined;
  category?: string | undefined;
  type?: string | undefined;
  perspective?: string | undefined;
  /** The asker's display name, for `{user}`. */
  userName?: string | undefined;
  locale?: string | undefined;
}

export interface SummaryChoices {
  category: string;
  type: string;
  perspective: string;
}

/**
 * A category, type or perspective as a route segment: trimmed, lowercased,
 * spaces as `_` (`Action Items` is `action_items`); undefined when empty.
 */
export function routeChoice(raw: string | null | undefined): string | undefined {
  const value = raw?.trim().toLowerCase().replace(/\s+/g, '_');
  return value === undefined || value === '' ? undefined : value;
}

/** The category, type and perspective a summary request means: its own, normalised, else the defaults. */
export function summaryChoices(request: Pick<PromptRequest, 'category' | 'type' | 'perspective'>): SummaryChoices {
  return {
    category: routeChoice(request.category) ?? SUMMARY_DEFAULTS.category,
    type: routeChoice(request.type) ?? SUMMARY_DEFAULTS.type,
    perspective: routeChoice(request.perspective) ?? SUMMARY_DEFAULTS.perspective,
  };
}

/** The context for a summary of `conversation` (or, without one, for what a summary of that channel would be). */
export function summaryContext(request: PromptRequest, now: number, conversation?: PreparedConversation): PromptContext {
  return promptContext({ ...request, ...summaryChoices(request) }, now, conversation);
}

/**
 * The context for any request, as given: values it leaves out are left out
 * (the repo's `variables` and the contract's defaults fill them when routed).
 * Values are raw: the prompt engine sanitizes them.
 */
export function promptContext(request: PromptRequest, now: number, conversation?: PreparedConversation): PromptContext {
  // Every field named, so a field added to PromptContext is a compile error here until it is given a value.
  const fields: { [K in keyof Required<PromptContext>]: PromptContext[K] } = {
    guild_id: request.guildId,
    guild_name: request.guildName,
    channel_id: request.channelId,
    channel_name: request.channelName,
    category: request.category,
    type: request.type,
    perspective: request.perspective,
    message_count: conversation?.messages.length,
    date: new Date(now).toISOString().slice(0, 10),
    time_range: conversation === undefined ? undefined : timeRange(conversation),
    locale: request.locale,
    user: request.userName,
  };
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) context[key] = value;
  return context as PromptContext;
}

function timeRange(conversation: PreparedConversation): string | undefined {
  const { firstTimestamp, lastTimestamp } = conversation.stats;
  if (firstTimestamp === undefined || lastTimestamp === undefined) return undefined;
  return `${formatUtcMinute(firstTimestamp)} – ${formatUtcMinute(lastTimestamp)}`;
}

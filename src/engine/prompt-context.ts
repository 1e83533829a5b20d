import type { PreparedConversation } from '../conversation/prepare.ts';
import { formatUtcMinute } from '../conversation/timestamp.ts';
import type { PromptContext } from '../prompts/types.ts';
import type { SummarizeOptions } from './types.ts';

export const DEFAULT_PERSPECTIVE = 'general';

/** What the guild's prompt router sees for a summary request. Values are raw: the prompt engine sanitizes them. */
export function summaryPromptContext(prepared: PreparedConversation, options: SummarizeOptions, now: number): PromptContext {
  const { firstTimestamp, lastTimestamp } = prepared.stats;
  const context: PromptContext = {
    channel_id: options.channelId,
    channel_name: options.channelName,
    type: options.type,
    perspective: options.perspective ?? DEFAULT_PERSPECTIVE,
    message_count: prepared.messages.length,
    date: new Date(now).toISOString().slice(0, 10),
  };
  if (options.guildId !== undefined) context.guild_id = options.guildId;
  if (options.guildName !== undefined) context.guild_name = options.guildName;
  if (options.category !== undefined) context.category = options.category;
  if (options.locale !== undefined) context.locale = options.locale;
  if (options.userName !== undefined) context.user = options.userName;
  if (firstTimestamp !== undefined && lastTimestamp !== undefined) {
    context.time_range = `${formatUtcMinute(firstTimestamp)} – ${formatUtcMinute(lastTimestamp)}`;
  }
  return context;
}

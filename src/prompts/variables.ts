import type { PromptContext } from './types.ts';

/** Variables a route template or a prompt body may use, fed from the request context. */
export const CONTEXT_VARIABLES = [
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
] as const;

export type ContextVariable = (typeof CONTEXT_VARIABLES)[number];

/** Only prompt bodies know this one: it marks where the conversation belongs. */
export const MESSAGES_VARIABLE = 'messages';

const CONTEXT_SET: ReadonlySet<string> = new Set(CONTEXT_VARIABLES);

export function isContextVariable(name: string): name is ContextVariable {
  return CONTEXT_SET.has(name);
}

/** Defaults the contract fixes for values a request may leave out. */
export const BUILTIN_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  category: 'discussion',
  perspective: 'general',
});

/** A variable name as it may appear between braces. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The raw (unsanitized) value the request gives a variable, or undefined.
 * `guild` and `channel` prefer the name over the id, as the reference bot's
 * `{channel}` is the channel's name; `summary_type` is another name for `type`.
 */
export function contextValue(ctx: PromptContext, name: string): string | undefined {
  switch (name) {
    case 'guild':
      return str(ctx.guild_name) ?? str(ctx.guild_id);
    case 'channel':
      return str(ctx.channel_name) ?? str(ctx.channel_id);
    case 'summary_type':
    case 'type':
      return str(ctx.type);
    case 'message_count':
      return typeof ctx.message_count === 'number' && Number.isFinite(ctx.message_count)
        ? String(ctx.message_count)
        : undefined;
    case 'guild_id':
    case 'guild_name':
    case 'channel_id':
    case 'channel_name':
    case 'category':
    case 'perspective':
    case 'date':
    case 'time_range':
    case 'locale':
    case 'user':
      return str(ctx[name]);
    default:
      return undefined;
  }
}

/** The request's value, else the repo's `variables` default, else the contract's default. */
export function variableValue(
  ctx: PromptContext,
  name: string,
  repoVariables: Readonly<Record<string, string>>,
): string | undefined {
  return contextValue(ctx, name) ?? ownValue(repoVariables, name) ?? ownValue(BUILTIN_DEFAULTS, name);
}

function ownValue(record: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

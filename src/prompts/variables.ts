import type { PromptContext } from './types.ts';

type Reader = (ctx: PromptContext) => string | undefined;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Every variable a route template or a prompt body may use, and how the
 * request context gives its raw (unsanitized) value. Each field of
 * `PromptContext` must have its variable here (the compiler says so when one
 * is added); other entries derive a value. `guild` and `channel` prefer the
 * name over the id, as the reference bot's `{channel}` is the channel's name;
 * `summary_type` is another name for `type`. The order is the order the
 * contract lists them in.
 */
const VARIABLES = {
  guild: (c) => text(c.guild_name) ?? text(c.guild_id),
  guild_id: (c) => text(c.guild_id),
  guild_name: (c) => text(c.guild_name),
  channel: (c) => text(c.channel_name) ?? text(c.channel_id),
  channel_id: (c) => text(c.channel_id),
  channel_name: (c) => text(c.channel_name),
  category: (c) => text(c.category),
  type: (c) => text(c.type),
  summary_type: (c) => text(c.type),
  perspective: (c) => text(c.perspective),
  message_count: (c) => (typeof c.message_count === 'number' && Number.isFinite(c.message_count) ? String(c.message_count) : undefined),
  date: (c) => text(c.date),
  time_range: (c) => text(c.time_range),
  locale: (c) => text(c.locale),
  user: (c) => text(c.user),
} satisfies Record<keyof PromptContext, Reader> & Record<string, Reader>;

type ContextVariable = keyof typeof VARIABLES;

/** Variables a route template or a prompt body may use, fed from the request context. */
export const CONTEXT_VARIABLES: readonly ContextVariable[] = Object.freeze(Object.keys(VARIABLES) as ContextVariable[]);

/** Only prompt bodies know this one: it marks where the conversation belongs. */
export const MESSAGES_VARIABLE = 'messages';

function isContextVariable(name: string): name is ContextVariable {
  return Object.hasOwn(VARIABLES, name);
}

/** Defaults the contract fixes for values a request may leave out. */
export const CONTEXT_DEFAULTS = Object.freeze({
  category: 'discussion',
  perspective: 'general',
} as const satisfies Partial<Record<ContextVariable, string>>);

/** The raw (unsanitized) value the request gives a variable, or undefined for an unknown name. */
export function contextValue(ctx: PromptContext, name: string): string | undefined {
  return isContextVariable(name) ? VARIABLES[name](ctx) : undefined;
}

/** The request's value, else the repo's `variables` default, else the contract's default. */
export function variableValue(
  ctx: PromptContext,
  name: string,
  repoVariables: Readonly<Record<string, string>>,
): string | undefined {
  return contextValue(ctx, name) ?? ownValue(repoVariables, name) ?? ownValue(CONTEXT_DEFAULTS, name);
}

function ownValue(record: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

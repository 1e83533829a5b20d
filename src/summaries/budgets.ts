/**
 * How many tokens an answer may take. Each summary type has a default; a
 * prompt's front matter (`max_tokens`) may ask for a different one, within a
 * cap the operator sets, because prompts come from guild repositories.
 */

const DEFAULT_OUTPUT_TOKENS: Readonly<Record<string, number>> = Object.freeze({
  brief: 600,
  detailed: 1_500,
  comprehensive: 3_000,
  action_items: 1_000,
});

/** For types a guild's repo adds (retro, standup, …). */
const DEFAULT_OTHER_OUTPUT_TOKENS = 1_500;

/** The most front matter may ask for. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8_192;

export interface OutputBudgetOptions {
  /** Per-type overrides of DEFAULT_OUTPUT_TOKENS. */
  byType?: Readonly<Record<string, number>>;
  other?: number;
  max?: number;
}

export function outputBudget(type: string, frontMatter: number | undefined, options: OutputBudgetOptions = {}): number {
  const cap = options.max ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const byType = Object.hasOwn(options.byType ?? {}, type) ? options.byType?.[type] : undefined;
  const typed = byType ?? (Object.hasOwn(DEFAULT_OUTPUT_TOKENS, type) ? DEFAULT_OUTPUT_TOKENS[type] : undefined);
  const wanted = frontMatter ?? typed ?? options.other ?? DEFAULT_OTHER_OUTPUT_TOKENS;
  return Math.max(1, Math.min(Math.floor(wanted), cap));
}

/**
 * An answer may use at most a third of the window, so that however the
 * budget was set, some room is left for the prompt and the conversation.
 */
export function fitAnswerToWindow(maxTokens: number, window: number): number {
  return Math.max(1, Math.min(maxTokens, Math.floor(window / 3)));
}

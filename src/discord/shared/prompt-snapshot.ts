/**
 * The guild's prompt repository as a parsed snapshot, for answers that must
 * come at once (autocomplete: Discord allows 3 s in all).
 */
import type { ParsedRepo } from '../../prompts/parsed.ts';
import type { PromptEngine } from '../../prompts/engine.ts';

/** Only what is already in memory, for an enabled config: a guild whose repository is not loaded yet gets null. */
export async function snapshotInMemory(prompts: PromptEngine, guildId: string): Promise<ParsedRepo | null> {
  const config = await prompts.configs.get(guildId);
  if (config === null || !config.enabled) return null;
  return prompts.cache.peek(prompts.targetFor(config).cacheKey)?.parsed ?? null;
}

/** What is in memory, else the snapshot a look-up brings within `waitMs`, else null. */
export async function snapshotWithin(prompts: PromptEngine, guildId: string, waitMs: number): Promise<ParsedRepo | null> {
  const config = await prompts.configs.get(guildId);
  if (config === null) return null;
  const target = prompts.targetFor(config);
  const held = prompts.cache.peek(target.cacheKey);
  if (held !== undefined) return held.parsed;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), waitMs);
  });
  try {
    // A lookup that loses the race must not become an unhandled rejection.
    const lookup = prompts.cache.lookup(target).then(
      (l) => l.entry?.parsed ?? null,
      () => null,
    );
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

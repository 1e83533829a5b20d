/**
 * The guild's prompt repository as a parsed snapshot, for answers that must
 * come at once (autocomplete: Discord allows 3 s in all).
 */
import type { ParsedRepo } from '../../prompts/parsed.ts';
import type { PromptEngine } from '../../prompts/engine.ts';

/** Only what is already in memory, for an enabled config: a guild whose repository is not loaded yet gets null. */
export async function snapshotInMemory(prompts: PromptEngine, guildId: string): Promise<ParsedRepo | null> {
  const held = await prompts.heldSnapshot(guildId);
  if (held === null || !held.config.enabled) return null;
  return held.parsed;
}

/** What is in memory, else the snapshot a look-up brings within `waitMs`, else null. */
export async function snapshotWithin(prompts: PromptEngine, guildId: string, waitMs: number): Promise<ParsedRepo | null> {
  return (await prompts.heldSnapshot(guildId, { storeWaitMs: waitMs }))?.parsed ?? null;
}

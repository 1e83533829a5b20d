import { createMemberNames, type MemberNames } from './history/member-names.ts';
import { PendingConfirmations } from './shared/pending-confirmations.ts';
import { createRoutedValuesMemo, type RoutedValuesMemo } from './shared/routed-autocomplete.ts';

/**
 * What the bot keeps in memory between interactions. Made once per bot by
 * the dispatcher and handed to every handler in its CommandContext, so
 * command modules hold no state of their own: two bots in one process (the
 * tests, the shards) never share a confirmation or a cache.
 */
export interface InteractionMemory {
  /** Confirmations waiting for a button click (/prompt-config set and remove). */
  confirmations: PendingConfirmations;
  /** The values a repository snapshot routes, for the autocomplete of /summarize and /prompt-config test. */
  routedValues: RoutedValuesMemo;
  /** Members' names looked up for summaries. */
  memberNames: MemberNames;
}

export function createInteractionMemory(): InteractionMemory {
  return { confirmations: new PendingConfirmations(), routedValues: createRoutedValuesMemo(), memberNames: createMemberNames() };
}

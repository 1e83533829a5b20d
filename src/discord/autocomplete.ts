/**
 * Autocomplete for the prompt-routing options (category, type, perspective):
 * the values the guild's repository actually routes, merged with the
 * defaults every guild has, filtered by what the member typed, at most 25.
 *
 * Only the snapshot already in memory is used: an autocomplete must answer
 * at once, so a guild whose repository is not loaded yet sees the defaults.
 * The routed values themselves come from `prompt-config/routed-values.ts`.
 */
import type { AutocompleteInteraction } from 'discord.js';
import type { ParsedRepo } from '../prompts/parsed.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import { DiscordLimits } from './format/limits.ts';
import { DEFAULT_VALUES, routedValues, suggest, type RoutedVariable } from './prompt-config/routed-values.ts';

export type { RoutedVariable } from './prompt-config/routed-values.ts';

export interface RoutedSuggestions {
  /** Values for `variable` in this guild starting with (then containing) `typed`. */
  values(prompts: PromptEngine, guildId: string | null, variable: RoutedVariable, typed: string): Promise<string[]>;
  /** Answers an autocomplete whose focused option is one of the routed variables (others get no choices). */
  respond(interaction: AutocompleteInteraction, prompts: PromptEngine): Promise<void>;
}

const VARIABLES: ReadonlySet<string> = new Set(Object.keys(DEFAULT_VALUES));

/** One per command: routed values are worked out once per snapshot (a new commit is a new ParsedRepo). */
export function createRoutedSuggestions(): RoutedSuggestions {
  const memo = new WeakMap<ParsedRepo, Map<RoutedVariable, string[]>>();
  const routedOf = (repo: ParsedRepo, variable: RoutedVariable): string[] => {
    let byVariable = memo.get(repo);
    if (byVariable === undefined) {
      byVariable = new Map();
      memo.set(repo, byVariable);
    }
    let values = byVariable.get(variable);
    if (values === undefined) {
      values = routedValues(repo, variable);
      byVariable.set(variable, values);
    }
    return values;
  };

  const values: RoutedSuggestions['values'] = async (prompts, guildId, variable, typed) => {
    const repo = guildId === null ? null : await snapshotInMemory(prompts, guildId);
    const routed = repo === null ? [] : routedOf(repo, variable);
    return suggest(typed, routed, DEFAULT_VALUES[variable], DiscordLimits.autocompleteChoices);
  };

  return {
    values,
    async respond(interaction, prompts) {
      const focused = interaction.options.getFocused(true);
      if (!VARIABLES.has(focused.name)) {
        await interaction.respond([]);
        return;
      }
      const choices = await values(prompts, interaction.guildId, focused.name as RoutedVariable, String(focused.value));
      await interaction.respond(choices.map((value) => ({ name: value, value })));
    },
  };
}

async function snapshotInMemory(prompts: PromptEngine, guildId: string): Promise<ParsedRepo | null> {
  const held = await prompts.heldSnapshot(guildId);
  return held?.config.enabled ? held.parsed : null;
}

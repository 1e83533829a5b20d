/**
 * Autocomplete for the prompt-routing options (category, type, perspective)
 * of /summarize and /prompt-config test: the values the guild's repository
 * actually routes, merged with the defaults every guild has, filtered by what
 * the member typed, at most 25. Each command says which snapshot to read
 * (`./prompt-snapshot.ts`); the routed values of a snapshot are worked out
 * once, in the bot's memory.
 */
import type { AutocompleteInteraction } from 'discord.js';
import type { ParsedRepo } from '../../prompts/parsed.ts';
import type { CommandContext } from '../command.ts';
import { DiscordLimits } from '../format/limits.ts';
import { DEFAULT_VALUES, routedValues, type RoutedVariable } from '../../prompts/routed-values.ts';

/** `routedValues`, worked out once per snapshot (a new commit is a new ParsedRepo). */
export type RoutedValuesMemo = (repo: ParsedRepo, variable: RoutedVariable) => string[];

export function createRoutedValuesMemo(): RoutedValuesMemo {
  const memo = new WeakMap<ParsedRepo, Map<RoutedVariable, string[]>>();
  return (repo, variable) => {
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
}

function isRoutedVariable(name: string): name is RoutedVariable {
  return Object.hasOwn(DEFAULT_VALUES, name);
}

/**
 * Answers an autocomplete whose focused option is one of the routed
 * variables (any other option gets no choices). `snapshot` is the guild's
 * repository as far as the command may wait for it, or null.
 */
export async function answerRoutedChoices(
  interaction: AutocompleteInteraction,
  ctx: CommandContext,
  snapshot: (guildId: string) => Promise<ParsedRepo | null>,
): Promise<void> {
  const focused = interaction.options.getFocused(true);
  if (!isRoutedVariable(focused.name)) {
    await interaction.respond([]);
    return;
  }
  const repo = interaction.guildId === null ? null : await snapshot(interaction.guildId);
  const routed = repo === null ? [] : ctx.memory.routedValues(repo, focused.name);
  const choices = suggest(String(focused.value), routed, DEFAULT_VALUES[focused.name], DiscordLimits.autocompleteChoices);
  await interaction.respond(choices.map((value) => ({ name: value, value })));
}

/**
 * Autocomplete choices: the repository's values first, then the defaults,
 * those starting with what the member typed before those merely containing
 * it, at most `limit`.
 */
function suggest(typed: string, routed: readonly string[], defaults: readonly string[], limit = 25): string[] {
  const query = typed.trim().toLowerCase();
  const all = [...new Set([...routed, ...defaults])].filter((v) => v.length >= 1 && v.length <= 100);
  const starts = all.filter((v) => v.startsWith(query));
  const contains = all.filter((v) => !v.startsWith(query) && v.includes(query));
  return [...starts, ...contains].slice(0, limit);
}

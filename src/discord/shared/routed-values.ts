import type { ParsedRepo } from '../../prompts/parsed.ts';
import { DEFAULT_SEGMENT } from '../../prompts/sanitize.ts';

/** The request fields /summarize and `/prompt-config test` let a member pick. */
export type RoutedVariable = 'category' | 'type' | 'perspective';

/** What every guild can use, repository or not (the contract's vocabulary). */
export const DEFAULT_VALUES: Readonly<Record<RoutedVariable, readonly string[]>> = {
  category: ['discussion', 'meeting', 'moderation', 'chat'],
  type: ['brief', 'detailed', 'comprehensive', 'action_items'],
  perspective: ['general', 'developer', 'marketing', 'product', 'finance', 'executive', 'support'],
};

/** `summary_type` is another name for `type` in route templates. */
const NAMES: Readonly<Record<RoutedVariable, readonly string[]>> = {
  category: ['category'],
  type: ['type', 'summary_type'],
  perspective: ['perspective'],
};

const SEGMENT = '([a-z0-9_-]{1,100})';

/**
 * The values of a variable that a repository actually routes: those its
 * `when` filters name, its `variables` defaults, and those read back from the
 * files its templates reach (`summaries/{category}/{type}.md` and a file
 * `summaries/standup/brief.md` give category `standup` and type `brief`).
 * `default` is the fallback segment, not a value, so it is left out.
 */
export function routedValues(repo: ParsedRepo, variable: RoutedVariable): string[] {
  const names = NAMES[variable];
  const found = new Set<string>();
  for (const name of names) {
    const preset = repo.routing.variables[name];
    if (preset !== undefined) found.add(preset);
  }
  const paths = [...repo.prompts.keys(), ...repo.skipped.keys(), ...repo.unreferenced];
  for (const route of repo.routing.routes) {
    for (const condition of route.when ?? []) {
      if (names.includes(condition.variable)) for (const value of condition.values) found.add(value);
    }
    const { parts, variables } = route.template;
    const wanted = new Set(variables.flatMap((v, i) => (names.includes(v) ? [i] : [])));
    if (wanted.size === 0) continue;
    const groups: number[] = [];
    const source = parts
      .map((part) => {
        if (typeof part === 'string') return escapeRegExp(part);
        groups.push(part);
        return SEGMENT;
      })
      .join('');
    const pattern = new RegExp(`^${source}$`);
    for (const path of paths) {
      const match = pattern.exec(path);
      if (match === null) continue;
      const values = new Map<number, string>();
      let consistent = true;
      groups.forEach((variableIndex, g) => {
        const value = match[g + 1]!;
        const seen = values.get(variableIndex);
        if (seen !== undefined && seen !== value) consistent = false;
        values.set(variableIndex, value);
      });
      if (!consistent) continue;
      for (const index of wanted) {
        const value = values.get(index);
        if (value !== undefined && value !== DEFAULT_SEGMENT) found.add(value);
      }
    }
  }
  found.delete(DEFAULT_SEGMENT);
  return [...found].sort();
}

/**
 * Autocomplete choices: the repository's values first, then the defaults,
 * those starting with what the member typed before those merely containing
 * it, at most `limit`.
 */
export function suggest(typed: string, routed: readonly string[], defaults: readonly string[], limit = 25): string[] {
  const query = typed.trim().toLowerCase();
  const all = [...new Set([...routed, ...defaults])].filter((v) => v.length >= 1 && v.length <= 100);
  const starts = all.filter((v) => v.startsWith(query));
  const contains = all.filter((v) => !v.startsWith(query) && v.includes(query));
  return [...starts, ...contains].slice(0, limit);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Which values of the request's routed variables (category, type,
 * perspective) a prompt repository routes, and how a Discord category's name
 * becomes a prompt category: what /summarize, its autocomplete and
 * `recap summarize` all decide with.
 */
import type { ParsedRepo } from './parsed.ts';
import { DEFAULT_SEGMENT } from './sanitize.ts';

/** The request fields /summarize and `/prompt-config test` let a member pick. */
export type RoutedVariable = 'category' | 'type' | 'perspective';

/** What every guild can use, repository or not (the contract's vocabulary). */
export const DEFAULT_VALUES: Readonly<Record<RoutedVariable, readonly string[]>> = {
  category: ['discussion', 'meeting', 'moderation', 'chat'],
  type: ['brief', 'detailed', 'comprehensive', 'action_items'],
  perspective: ['general', 'developer', 'marketing', 'product', 'finance', 'executive', 'support'],
};

/** What a prompt category may look like (the segment shape prompt routes accept). */
export const PROMPT_CATEGORY = /^[a-z0-9_-]{1,100}$/;

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
 * The categories a repository routes; with none (the guild has no usable
 * repository, so the bundled prompts answer), the contract's categories.
 */
export function routedCategories(repo: ParsedRepo | null, routed: typeof routedValues = routedValues): readonly string[] {
  return repo === null ? DEFAULT_VALUES.category : routed(repo, 'category');
}

/**
 * A Discord category's name reduced to a route segment ("Team Meetings!" →
 * `team-meetings`); undefined when nothing usable is left.
 */
export function sanitizedCategoryName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const segment = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
  return PROMPT_CATEGORY.test(segment) ? segment : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

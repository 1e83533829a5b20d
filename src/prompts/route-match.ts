import type { RouteTemplate } from './route-template.ts';
import { MAX_SEGMENT_CHARS } from './sanitize.ts';

/** Work left for matching routes against a snapshot's files; shared by every match of one parse. */
interface MatchBudget {
  remaining: number;
}

/**
 * Whether a template can produce `path`: each variable stands for 1 to 100
 * characters of `[a-z0-9_-]`, as sanitized values are. Walks the path once
 * per template part, keeping the set of positions reached so far, so the
 * work is at most parts × path length. (A backtracking regular expression
 * takes exponential time on `{a}{b}{c}{d}{e}{f}.md` against a long name.)
 * Each step is charged to `budget`; once it is spent the answer is `false`
 * and the caller reports the budget, not the match.
 */
export function matchesTemplate(template: RouteTemplate, path: string, budget: MatchBudget): boolean {
  let positions: number[] = [0];
  for (const part of template.parts) {
    const next: number[] = [];
    if (typeof part === 'string') {
      for (const p of positions) if (path.startsWith(part, p)) next.push(p + part.length);
      budget.remaining -= positions.length;
    } else {
      // Positions are ascending, so the ranges they reach are added in order without repeats.
      let covered = 0;
      for (const p of positions) {
        let end = p;
        while (end - p < MAX_SEGMENT_CHARS && end < path.length && isSegmentChar(path.charCodeAt(end))) end += 1;
        for (let q = Math.max(p + 1, covered + 1); q <= end; q++) next.push(q);
        budget.remaining -= end - p + 1;
        if (end > covered) covered = end;
      }
    }
    if (budget.remaining < 0) return false;
    if (next.length === 0) return false;
    positions = next;
  }
  return positions[positions.length - 1] === path.length;
}

/** `[a-z0-9_-]`: the characters a sanitized value is made of. */
function isSegmentChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2d;
}

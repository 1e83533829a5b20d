import { formatProblem } from '../../prompts/problems.ts';
import type { Problem } from '../../prompts/types.ts';
import { boundedCodeLines } from '../format/text.ts';

/** Errors before warnings, each group in the order the engine reported it. */
function errorsFirst(problems: readonly Problem[]): Problem[] {
  return [...problems.filter((p) => p.severity === 'error'), ...problems.filter((p) => p.severity !== 'error')];
}

/**
 * Problems as `file:line:col: message` lines in a code block (so nothing a
 * repository writes can format or link), errors first, cut to `max` with
 * "…and N more".
 */
export function problemsBlock(problems: readonly Problem[], max: number): string {
  return boundedCodeLines(errorsFirst(problems).map(formatProblem), {
    max,
    more: (n) => `…and ${n} more problem${n === 1 ? '' : 's'}`,
  });
}

export function countProblems(problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const parts = [];
  if (errors > 0) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

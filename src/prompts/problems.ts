import type { Problem, Severity } from './types.ts';

/** A position inside a file, 1-based. */
export interface Position {
  line: number;
  column: number;
}

/** Names the repository as a whole when a problem belongs to no single file. */
export const REPOSITORY_FILE = '.';

export function makeProblem(
  severity: Severity,
  code: string,
  file: string,
  message: string,
  at?: Position,
): Problem {
  const problem: Problem = { severity, code, file, message };
  if (at !== undefined) {
    problem.line = at.line;
    problem.column = at.column;
  }
  return problem;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** `file:line:col: message`, with `warning: ` before the message of a warning. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) {
    where += `:${p.line}`;
    if (p.column !== undefined) where += `:${p.column}`;
  }
  return `${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

/** Orders problems by file, then line, then column, keeping discovery order for ties. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : 0) ||
        (a.p.line ?? 0) - (b.p.line ?? 0) ||
        (a.p.column ?? 0) - (b.p.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}

/** Renders a value for a message: short, on one line, in backticks. */
export function quote(text: string, max = 80): string {
  const oneLine = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  return `\`${cut.replace(/`/g, "'")}\``;
}

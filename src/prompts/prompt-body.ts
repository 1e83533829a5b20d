import { includePath } from './front-matter.ts';
import type { BodySegment } from './parsed.ts';
import { makeProblem, quote, type Position } from './problems.ts';
import { checkRepoPath } from './repo-path.ts';
import type { Problem } from './types.ts';
import { CONTEXT_VARIABLES, MESSAGES_VARIABLE } from './variables.ts';

/** Names a prompt body may use without declaring them. */
export const BODY_VARIABLES: readonly string[] = Object.freeze([...CONTEXT_VARIABLES, MESSAGES_VARIABLE]);

/** A body cut into literal text, variables, and (v2) include markers. */
export type ScannedPart = string | { readonly variable: string } | { readonly include: string; readonly at: Position };

interface ScanOptions {
  file: string;
  /** Line of the file on which the body starts. */
  firstLine: number;
  /** Variables that are substituted; other `{names}` stay as written. */
  known: ReadonlySet<string>;
  /** Whether `{> name}` marks an include (v2) or is ordinary text. */
  includes: boolean;
  /** Unknown-name warnings reported before the rest are counted in one summary. */
  maxUnknownWarnings: number;
  /** Parts kept before the scan stops and says the body is `truncated`; unbounded when unset. */
  maxParts?: number;
}

interface ScanResult {
  parts: ScannedPart[];
  problems: Problem[];
  /** The body has more parts than `maxParts`: `parts` holds only the first ones. */
  truncated?: boolean;
}

const NAME = /\{([A-Za-z_][A-Za-z0-9_]*)\}/y;
const INCLUDE = /\{>[ \t]*([^\s{}]+)[ \t]*\}/y;

/**
 * Finds the variables and include markers of a body in one pass. `{{…}}` is
 * never a variable, nor is anything that is not `{identifier}`, so JSON
 * examples and other template languages pass through untouched.
 */
export function scanBody(text: string, options: ScanOptions): ScanResult {
  const parts: ScannedPart[] = [];
  const problems: Problem[] = [];
  const where = positionTracker(text, options.firstLine);
  let unknown = 0;
  let errors = 0;
  let literalStart = 0;
  let i = 0;
  const maxParts = options.maxParts ?? Number.POSITIVE_INFINITY;
  const flush = (end: number): void => {
    if (end > literalStart) pushLiteral(parts, text.slice(literalStart, end));
  };
  for (let p = text.indexOf('{', i); p !== -1; p = text.indexOf('{', i)) {
    // A body of a million `{names}` would cost a million parts before any limit looked at it.
    if (parts.length > maxParts) return { parts, problems, truncated: true };
    // The file is skipped after its first error; a few more help the admin, millions would not.
    if (errors >= Math.max(1, options.maxUnknownWarnings)) return { parts, problems };
    if (text[p + 1] === '{') {
      // `{{…}}` belongs to other template languages; keep the whole run of braces.
      let q = p;
      while (text[q] === '{') q += 1;
      i = q;
      continue;
    }
    if (options.includes && text[p + 1] === '>') {
      INCLUDE.lastIndex = p;
      const m = INCLUDE.exec(text);
      if (m === null) {
        errors += 1;
        problems.push(
          makeProblem('error', 'prompt.include-syntax', options.file, 'has `{>` that is not an include such as `{> shared/rules.md}`', where(p)),
        );
        i = p + 2;
        continue;
      }
      const path = includePath(m[1]!);
      const issue = checkRepoPath(path);
      if (issue !== null) {
        errors += 1;
        problems.push(makeProblem('error', issue.code, options.file, `includes ${quote(m[1]!)}, which ${issue.message}`, where(p)));
      } else {
        flush(p);
        parts.push({ include: path, at: where(p) });
        literalStart = p + m[0].length;
      }
      i = p + m[0].length;
      continue;
    }
    NAME.lastIndex = p;
    const m = NAME.exec(text);
    if (m === null || text[p + m[0].length] === '}') {
      i = p + 1;
      continue;
    }
    const name = m[1]!;
    if (options.known.has(name)) {
      flush(p);
      parts.push(variableSegment(name));
      literalStart = p + m[0].length;
    } else {
      unknown += 1;
      if (unknown <= options.maxUnknownWarnings) {
        problems.push(makeProblem('warning', 'prompt.unknown-variable', options.file, unknownMessage(name, options.known), where(p)));
      }
    }
    i = p + m[0].length;
  }
  flush(text.length);
  if (unknown > options.maxUnknownWarnings) {
    problems.push(
      makeProblem(
        'warning',
        'prompt.unknown-variable',
        options.file,
        `has ${unknown - options.maxUnknownWarnings} more \`{names}\` that are not variables; they are sent as written`,
      ),
    );
  }
  return { parts, problems };
}

/** Compiles a body that has no includes into segments (used for the compiled-in fallback). */
export function compileStandaloneBody(text: string, known: ReadonlySet<string> = new Set(BODY_VARIABLES)): {
  segments: BodySegment[];
  problems: Problem[];
} {
  const { parts, problems } = scanBody(text, {
    file: '(compiled-in prompt)',
    firstLine: 1,
    known,
    includes: false,
    maxUnknownWarnings: Number.POSITIVE_INFINITY,
  });
  return { segments: parts.filter((p): p is BodySegment => typeof p === 'string' || 'variable' in p), problems };
}

function pushLiteral(parts: ScannedPart[], text: string): void {
  const last = parts.length - 1;
  if (last >= 0 && typeof parts[last] === 'string') parts[last] = (parts[last] as string) + text;
  else parts.push(text);
}

function unknownMessage(name: string, known: ReadonlySet<string>): string {
  const hint = suggest(name, known);
  return `uses \`{${name}}\`, which is not a variable, so it is sent as written${hint ? `; did you mean \`{${hint}}\`?` : ''}`;
}

function suggest(name: string, known: ReadonlySet<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (candidate === lower) return candidate;
    const d = editDistance(lower, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return name.length >= 4 ? best : undefined;
}

/** Levenshtein distance, giving up (returning `limit`) once it is known to reach it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit || a.length > 64) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length]!, limit);
}

/** Positions of increasing offsets in one text, found without rescanning from the start. */
function positionTracker(text: string, firstLine: number): (index: number) => Position {
  let line = firstLine;
  let lineStart = 0;
  let scanned = 0;
  return (index) => {
    for (let nl = text.indexOf('\n', scanned); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1)) {
      line += 1;
      lineStart = nl + 1;
    }
    scanned = Math.max(scanned, index);
    return { line, column: index - lineStart + 1 };
  };
}

const interned = new Map<string, { readonly variable: string }>();

/** One shared segment object per variable name: thousands of cached prompts use the same few. */
function variableSegment(name: string): { readonly variable: string } {
  let segment = interned.get(name);
  if (segment === undefined) {
    segment = Object.freeze({ variable: name });
    interned.set(name, segment);
  }
  return segment;
}

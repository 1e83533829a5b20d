import { readFrontMatter, splitPromptFile, type FrontMatter } from './front-matter.ts';
import type { PromptLimits } from './limits.ts';
import type { BodySegment, PromptFile } from './parsed.ts';
import { makeProblem, quote, type Position } from './problems.ts';
import { scanBody, type ScannedPart } from './prompt-body.ts';
import { decodeUtf8, utf8Length } from './text.ts';
import type { Problem } from './types.ts';

interface PromptCompilerDeps {
  /** Bytes of a snapshot file, undefined when the snapshot has no such (safe) file. */
  read(path: string): Uint8Array | undefined;
  limits: PromptLimits;
  /** v2 reads front matter and `{> includes}`; v1 and line patterns take files as they are. */
  version: 'v1' | 'v2';
  /** Variables bodies may use: the context's, `messages`, and the PATH file's own. */
  known: ReadonlySet<string>;
  report(problem: Problem): void;
}

type CompileOutcome = { ok: true; prompt: PromptFile } | { ok: false; reason: string };

interface Unit {
  frontMatter: FrontMatter;
  /** The text after the front matter, as written. */
  body: string;
  /** Line of the file on which the body starts. */
  bodyLine: number;
  parts: ScannedPart[];
}

/**
 * One file with its includes expanded. Included files are shared, never
 * copied: a piece may be another file's expansion, so a file costs its own
 * parts however much text it stands for. Sizes are counted as the expansion
 * is built, so a file stops growing the moment it passes a limit.
 */
interface Expanded {
  readonly path: string;
  readonly pieces: readonly Piece[];
  /** UTF-8 bytes of the text it stands for (a variable counts as its `{name}`). */
  readonly bytes: number;
  /** Literal runs, variables and include markers it stands for, each counted where it is inserted. */
  readonly segments: number;
  /** Variables it stands for: each renders as up to 200 characters of a member's text. */
  readonly variables: number;
  /** The last characters of its text (a variable as VARIABLE_MARK); all of it when `whole`. */
  readonly tail: string;
  readonly whole: boolean;
  /** How deep includes nest below this file (0: it includes nothing). */
  readonly height: number;
  /** The chain of files along the deepest include path, this file first. */
  readonly deepest: readonly string[];
}

/** Literal text, a variable, or an included file (`trim`: without its final newline). */
type Piece = BodySegment | { readonly include: Expanded; readonly trim: boolean };

type Result<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A file past the per-prompt limits (reported already); `tooLarge` says which, for the files that include it. */
type TooLarge = { ok: false; reason: string; tooLarge: string };

/**
 * An expansion; the chain of files that goes past the include limit (with
 * the marker that starts it); or a file that expands past the size limits
 * (reported already, where it happens).
 */
type Expansion = Result<Expanded> | { ok: false; tooDeep: string[]; at?: Position } | TooLarge;

/** Stands for a variable in a tail: any character but a newline would do. */
const VARIABLE_MARK = '\u0000';

/**
 * Turns prompt files into render-ready segments, expanding includes once per
 * file (memoized, shared) and reporting each file's problems once, where
 * they are. Every file's expansion, and the snapshot's compiled prompts
 * together, are bounded while they are built.
 */
export function createPromptCompiler(deps: PromptCompilerDeps): { compile(path: string): CompileOutcome; used(): ReadonlySet<string> } {
  const { limits } = deps;
  const units = new Map<string, Result<Unit> | TooLarge>();
  const expansions = new Map<string, Exclude<Expansion, { tooDeep: string[] }>>();
  /** Chains too deep, by depth and file: met again from other prompts, they are not walked again. */
  const tooDeepAt = new Map<string, Expansion>();
  const stack: string[] = [];
  const touched = new Set<string>();
  /** Front matter bytes read so far: YAML is the costly part of a snapshot. */
  let frontMatterBytes = 0;
  // A file may lose one final newline each time it is inserted, so an include
  // may be that much over the limit and still fit the prompt that uses it.
  const includeBytes = limits.promptBytes + limits.includeDepth + 1;
  // Enough characters of a tail to see its final newline after every trim along a chain.
  const tailChars = limits.includeDepth + 2;
  const snapshot: { bytes: number; segments: number; spent: boolean; past?: string } = { bytes: 0, segments: 0, spent: false };

  const error = (code: string, file: string, message: string, at?: Position): void => {
    deps.report(makeProblem('error', code, file, message, at));
  };

  function load(path: string): Result<Unit> | TooLarge {
    const known = units.get(path);
    if (known !== undefined) return known;
    const result = loadUncached(path);
    units.set(path, result);
    return result;
  }

  function loadUncached(path: string): Result<Unit> | TooLarge {
    touched.add(path);
    const bytes = deps.read(path);
    if (bytes === undefined) return { ok: false, reason: 'it is not in the repository' };
    const decoded = decodeUtf8(bytes, path);
    if (!decoded.ok) {
      deps.report(decoded.problem);
      return { ok: false, reason: `it ${decoded.problem.message}` };
    }
    let frontMatter: FrontMatter = { parameters: {}, description: undefined, includes: [] };
    let body = decoded.text;
    let bodyLine = 1;
    const split = splitPromptFile(decoded.text);
    if (deps.version === 'v2') {
      if (split === null) {
        error('front-matter.unclosed', path, 'starts front matter with `---` but never closes it with another `---` line', { line: 1, column: 1 });
        return { ok: false, reason: 'its front matter is never closed' };
      }
      if (split.frontMatter !== null) {
        frontMatterBytes += utf8Length(split.frontMatter);
        if (frontMatterBytes > limits.snapshotFrontMatterBytes) {
          const over = `comes after the repository's front matter passed ${formatSize(limits.snapshotFrontMatterBytes)} in total (the limit for a repository)`;
          error('front-matter.repository-too-large', path, `${over}, so its front matter is not read and it is skipped; keep front matter to a few settings`, {
            line: 1,
            column: 1,
          });
          return { ok: false, reason: `it ${over}` };
        }
        const read = readFrontMatter(split.frontMatter, path, split.frontMatterLine, limits);
        read.problems.forEach(deps.report);
        if (read.frontMatter === null) return { ok: false, reason: 'its front matter has errors' };
        frontMatter = read.frontMatter;
        body = split.body;
        bodyLine = split.bodyLine;
      }
    } else if (split?.frontMatter != null && /^(?:model|provider|temperature|max_tokens|description|includes)[ \t]*:/m.test(split.frontMatter)) {
      deps.report(
        makeProblem(
          'warning',
          'front-matter.needs-v2',
          path,
          'starts with front matter, which is read only when PATH says `version: v2`; here it is sent as part of the prompt',
          { line: 1, column: 1 },
        ),
      );
    }
    const scanned = scanBody(body, {
      file: path,
      firstLine: bodyLine,
      known: deps.known,
      includes: deps.version === 'v2',
      maxUnknownWarnings: limits.unknownVariableWarnings,
      maxParts: limits.promptSegments,
    });
    scanned.problems.forEach(deps.report);
    if (scanned.problems.some((p) => p.severity === 'error')) return { ok: false, reason: 'its text has errors' };
    if (scanned.truncated === true) {
      const over = `has more than ${pieceCount(limits.promptSegments)} as written`;
      error('prompt.too-large', path, `${over} (the limit for a prompt), so it is skipped; shorten it or split it`, { line: bodyLine, column: 1 });
      return { ok: false, reason: `it ${over}`, tooLarge: over };
    }
    const marked = new Set(scanned.parts.flatMap((p) => (typeof p === 'object' && 'include' in p ? [p.include] : [])));
    for (const declared of frontMatter.includes) {
      if (deps.read(declared.path) === undefined) {
        error('prompt.include-missing', path, `lists the include ${quote(declared.path)}, which is not in the repository`, declared.at);
        return { ok: false, reason: `its include ${declared.path} is missing` };
      }
      if (!marked.has(declared.path)) {
        deps.report(
          makeProblem(
            'warning',
            'prompt.include-unused',
            path,
            `lists ${quote(declared.path)} under \`includes\` but has no \`{> ${declared.path}}\` marker, so it is not inserted`,
            declared.at,
          ),
        );
      }
    }
    return { ok: true, value: { frontMatter, body, bodyLine, parts: scanned.parts } };
  }

  /** Which per-prompt limit an expansion of that size and shape passes, in words; null within both. */
  function overLimits(bytes: number, segments: number, variables: number): string | null {
    if (bytes > includeBytes) return `is more than ${formatKiB(limits.promptBytes)}`;
    if (segments > limits.promptSegments) return `has more than ${pieceCount(limits.promptSegments)}`;
    if (variables > limits.promptVariables) return `uses variables more than ${limits.promptVariables.toLocaleString('en-US')} times`;
    return null;
  }

  /**
   * Expands a file met `depth` includes below a prompt. Recursion never goes
   * past the include limit: deeper chains come back as `tooDeep` (remembered
   * per depth, as it depends on where the file was met) and are reported
   * once, at the prompt that started them.
   */
  function expand(path: string, depth: number): Expansion {
    const known = expansions.get(path);
    if (known !== undefined) {
      if (known.ok && known.value.height > limits.includeDepth - depth) return { ok: false, tooDeep: [...known.value.deepest] };
      return known;
    }
    const key = `${depth}:${path}`;
    const deep = tooDeepAt.get(key);
    if (deep !== undefined) return deep;
    if (depth > limits.includeDepth) return { ok: false, tooDeep: [path] };
    const unit = load(path);
    if (!unit.ok) return unit;
    stack.push(path);
    const result = expandUnit(path, unit.value, depth);
    stack.pop();
    if ('tooDeep' in result) tooDeepAt.set(key, result);
    else expansions.set(path, result);
    return result;
  }

  function expandUnit(path: string, unit: Unit, depth: number): Expansion {
    const pieces: Piece[] = [];
    let bytes = 0;
    let segments = 0;
    let variables = 0;
    let height = 0;
    let deepest = [path];
    for (const part of unit.parts) {
      if (typeof part === 'string' || 'variable' in part) {
        pieces.push(part);
        if (typeof part === 'string') bytes += utf8Length(part);
        else {
          bytes += part.variable.length + 2;
          variables += 1;
        }
        segments += 1;
        const over = overLimits(bytes, segments, variables);
        if (over !== null) {
          error('prompt.too-large', path, `${over} after includes (the limit for a prompt), so it is skipped; shorten it or split it`, {
            line: unit.bodyLine,
            column: 1,
          });
          return { ok: false, reason: `it ${over} after includes`, tooLarge: `${over} after includes` };
        }
        continue;
      }
      const target = part.include;
      if (stack.includes(target)) {
        const cycle = [...stack.slice(stack.indexOf(target)), target].join(' → ');
        error('prompt.include-cycle', path, `includes ${quote(target)}, which closes an include cycle: ${cycle}`, part.at);
        return { ok: false, reason: `it is part of an include cycle (${cycle})` };
      }
      if (deps.read(target) === undefined) {
        error('prompt.include-missing', path, `includes ${quote(target)}, which is not in the repository`, part.at);
        return { ok: false, reason: `its include ${target} is missing` };
      }
      const child = expand(target, depth + 1);
      if ('tooDeep' in child) return { ok: false, tooDeep: [path, ...child.tooDeep], at: part.at };
      if ('tooLarge' in child) {
        const over = child.tooLarge;
        error('prompt.too-large', path, `includes ${quote(target)}, which ${over} (the limit for a prompt), so this file is skipped too`, part.at);
        return { ok: false, reason: `its include ${target} ${over}`, tooLarge: over };
      }
      if (!child.ok) {
        error('prompt.include-failed', path, `includes ${quote(target)}, which cannot be used because ${child.reason}`, part.at);
        return { ok: false, reason: `its include ${target} cannot be used` };
      }
      // An include's final newline is dropped, so a marker on its own line adds no blank line.
      const included = child.value;
      const trim = included.tail.endsWith('\n');
      pieces.push({ include: included, trim });
      bytes += included.bytes - (trim ? 1 : 0);
      segments += included.segments + 1;
      variables += included.variables;
      const over = overLimits(bytes, segments, variables);
      if (over !== null) {
        error('prompt.too-large', path, `${over} once ${quote(target)} is included here (the limit for a prompt), so it is skipped; shorten it or split it`, part.at);
        return { ok: false, reason: `it ${over} after includes`, tooLarge: `${over} after includes` };
      }
      if (included.height + 1 > height) {
        height = included.height + 1;
        deepest = [path, ...included.deepest];
      }
    }
    const { tail, whole } = tailOf(pieces, tailChars);
    return { ok: true, value: { path, pieces, bytes, segments, variables, tail, whole, height, deepest } };
  }

  function compile(path: string): CompileOutcome {
    const expanded = expand(path, 0);
    if ('tooDeep' in expanded) {
      const limit = limits.includeDepth;
      error(
        'prompt.include-too-deep',
        path,
        `includes ${quote(expanded.tooDeep[1] ?? path)}, and includes then nest more than ${limit} deep: ${expanded.tooDeep.join(' → ')}`,
        expanded.at,
      );
      return { ok: false, reason: `its includes nest more than ${limit} deep` };
    }
    if (!expanded.ok) return { ok: false, reason: expanded.reason };
    const unit = load(path);
    if (!unit.ok) return { ok: false, reason: unit.reason };
    const { bytes, segments } = expanded.value;
    if (bytes > limits.promptBytes) {
      // Only the slack an include is allowed for its final newline gets here.
      const over = `is more than ${formatKiB(limits.promptBytes)} after includes`;
      error('prompt.too-large', path, `${over} (the limit for a prompt), so it is skipped; shorten it or split it`, { line: unit.value.bodyLine, column: 1 });
      return { ok: false, reason: `it ${over}` };
    }
    if (snapshot.spent || snapshot.bytes + bytes > limits.snapshotExpandedBytes || snapshot.segments + segments > limits.snapshotExpandedSegments) {
      const past = (snapshot.past ??= `the repository's prompts past ${formatSize(limits.snapshotExpandedBytes)} or ${pieceCount(limits.snapshotExpandedSegments)} in total after includes`);
      if (!snapshot.spent) {
        error(
          'snapshot.prompts-too-large',
          path,
          `would take ${past} (the limit for a repository), so it and the prompts after it (by path) are skipped; include less, or fewer times`,
          { line: unit.value.bodyLine, column: 1 },
        );
      }
      snapshot.spent = true;
      return { ok: false, reason: `it would take ${past}` };
    }
    snapshot.bytes += bytes;
    snapshot.segments += segments;
    const { frontMatter } = unit.value;
    return {
      ok: true,
      prompt: Object.freeze({
        path,
        description: frontMatter.description,
        parameters: Object.freeze({ ...frontMatter.parameters }),
        includes: Object.freeze(includesOf(expanded.value)),
        segments: Object.freeze(flatten(expanded.value).map(detach)),
        bytes,
      }),
    };
  }

  return { compile, used: () => touched };
}

/** The last `chars` characters of what pieces stand for (fewer: all of it), and whether that is all of it. */
function tailOf(pieces: readonly Piece[], chars: number): { tail: string; whole: boolean } {
  let tail = '';
  for (let k = pieces.length - 1; k >= 0; k--) {
    const piece = pieces[k]!;
    if (typeof piece === 'string') tail = piece.slice(-(chars + 1)) + tail;
    else if ('variable' in piece) tail = VARIABLE_MARK + tail;
    else {
      const { include, trim } = piece;
      tail = (trim ? include.tail.slice(0, -1) : include.tail) + tail;
      if (!include.whole) return { tail: tail.slice(-chars), whole: false };
    }
    if (tail.length > chars) return { tail: tail.slice(-chars), whole: false };
  }
  return { tail, whole: true };
}

/**
 * The segments of an expansion, adjacent literal text joined, each included
 * file without its final newline where its piece says so. Linear in the
 * expansion, which the limits bound before this is ever called.
 */
function flatten(root: Expanded): BodySegment[] {
  const segments: BodySegment[] = [];
  const walk = (node: Expanded): void => {
    for (const piece of node.pieces) {
      if (typeof piece === 'string' || 'variable' in piece) {
        pushSegment(segments, piece);
        continue;
      }
      walk(piece.include);
      if (piece.trim) dropFinalNewline(segments);
    }
  };
  walk(root);
  return segments;
}

/** The newline an included file ends with (its tail said it is there, as literal text). */
function dropFinalNewline(segments: BodySegment[]): void {
  const last = segments.length - 1;
  const text = segments[last];
  if (typeof text !== 'string' || !text.endsWith('\n')) return;
  if (text.length === 1) segments.pop();
  else segments[last] = text.slice(0, -1);
}

/**
 * Every file expanded into a prompt, transitively, in first-use order. Each
 * shared file is walked once, however often it is included.
 */
function includesOf(root: Expanded): string[] {
  const seen = new Set<string>();
  const walk = (node: Expanded): void => {
    for (const piece of node.pieces) {
      if (typeof piece === 'string' || 'variable' in piece) continue;
      if (seen.has(piece.include.path)) continue;
      seen.add(piece.include.path);
      walk(piece.include);
    }
  };
  walk(root);
  return [...seen];
}

/**
 * Literal text as a string of its own. Segments are slices and
 * concatenations of the decoded files, and V8 keeps every piece they were
 * built from alive: a cached snapshot would hold its files twice over.
 */
function detach(segment: BodySegment): BodySegment {
  return typeof segment === 'string' ? Buffer.from(segment, 'utf8').toString('utf8') : segment;
}

function pushSegment(segments: BodySegment[], segment: BodySegment): void {
  if (segment === '') return;
  const last = segments.length - 1;
  if (typeof segment === 'string' && last >= 0 && typeof segments[last] === 'string') {
    segments[last] = (segments[last] as string) + segment;
  } else {
    segments.push(segment);
  }
}

function pieceCount(pieces: number): string {
  return `${pieces.toLocaleString('en-US')} pieces (literal text runs, variables, includes)`;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB` : formatKiB(bytes);
}

function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
}

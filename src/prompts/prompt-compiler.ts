import { readFrontMatter, splitPromptFile, type FrontMatter } from './front-matter.ts';
import type { PromptLimits } from './limits.ts';
import type { BodySegment, PromptFile } from './parsed.ts';
import { makeProblem, quote, type Position } from './problems.ts';
import { scanBody, type ScannedPart } from './prompt-body.ts';
import { decodeUtf8, utf8Length } from './text.ts';
import type { Problem } from './types.ts';

export interface PromptCompilerDeps {
  /** Bytes of a snapshot file, undefined when the snapshot has no such (safe) file. */
  read(path: string): Uint8Array | undefined;
  limits: PromptLimits;
  /** v2 reads front matter and `{> includes}`; v1 and line patterns take files as they are. */
  version: 'v1' | 'v2';
  /** Variables bodies may use: the context's, `messages`, and the PATH file's own. */
  known: ReadonlySet<string>;
  report(problem: Problem): void;
}

export type CompileOutcome = { ok: true; prompt: PromptFile } | { ok: false; reason: string };

interface Unit {
  frontMatter: FrontMatter;
  /** The text after the front matter, as written. */
  body: string;
  parts: ScannedPart[];
}

interface Expanded {
  segments: BodySegment[];
  /** How deep includes nest below this file (0: it includes nothing). */
  height: number;
  /** The chain of files along the deepest include path, this file first. */
  deepest: string[];
  includes: string[];
}

type Result<T> = { ok: true; value: T } | { ok: false; reason: string };

/** An expansion, or the chain of files that goes past the include limit (with the marker that starts it). */
type Expansion = Result<Expanded> | { ok: false; tooDeep: string[]; at?: Position };

/**
 * Turns prompt files into render-ready segments, expanding includes once per
 * file (memoized) and reporting each file's problems once, where they are.
 */
export function createPromptCompiler(deps: PromptCompilerDeps): { compile(path: string): CompileOutcome; used(): ReadonlySet<string> } {
  const units = new Map<string, Result<Unit>>();
  const expansions = new Map<string, Result<Expanded>>();
  const stack: string[] = [];
  const touched = new Set<string>();

  const error = (code: string, file: string, message: string, at?: Position): void => {
    deps.report(makeProblem('error', code, file, message, at));
  };

  function load(path: string): Result<Unit> {
    const known = units.get(path);
    if (known !== undefined) return known;
    const result = loadUncached(path);
    units.set(path, result);
    return result;
  }

  function loadUncached(path: string): Result<Unit> {
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
        const read = readFrontMatter(split.frontMatter, path, split.frontMatterLine, deps.limits);
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
      maxUnknownWarnings: deps.limits.unknownVariableWarnings,
    });
    scanned.problems.forEach(deps.report);
    if (scanned.problems.some((p) => p.severity === 'error')) return { ok: false, reason: 'its text has errors' };
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
    return { ok: true, value: { frontMatter, body, parts: scanned.parts } };
  }

  /**
   * Expands a file met `depth` includes below a prompt. Recursion never goes
   * past the include limit: deeper chains come back as `tooDeep` (not
   * memoized, as it depends on where the file was met) and are reported once,
   * at the prompt that started them.
   */
  function expand(path: string, depth: number): Expansion {
    const known = expansions.get(path);
    if (known !== undefined) {
      if (known.ok && known.value.height > deps.limits.includeDepth - depth) return { ok: false, tooDeep: known.value.deepest };
      return known;
    }
    if (depth > deps.limits.includeDepth) return { ok: false, tooDeep: [path] };
    const unit = load(path);
    if (!unit.ok) return unit;
    stack.push(path);
    const result = expandUnit(path, unit.value, depth);
    stack.pop();
    if (!('tooDeep' in result)) expansions.set(path, result);
    return result;
  }

  function expandUnit(path: string, unit: Unit, depth: number): Expansion {
    const segments: BodySegment[] = [];
    const includes: string[] = [];
    let height = 0;
    let deepest = [path];
    for (const part of unit.parts) {
      if (typeof part === 'string' || 'variable' in part) {
        pushSegment(segments, part);
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
      if (!child.ok) {
        error('prompt.include-failed', path, `includes ${quote(target)}, which cannot be used because ${child.reason}`, part.at);
        return { ok: false, reason: `its include ${target} cannot be used` };
      }
      // An include's final newline is dropped, so a marker on its own line adds no blank line.
      const inserted = child.value.segments;
      for (let k = 0; k < inserted.length; k++) {
        const segment = inserted[k]!;
        const isLast = k === inserted.length - 1;
        pushSegment(segments, isLast && typeof segment === 'string' && segment.endsWith('\n') ? segment.slice(0, -1) : segment);
      }
      for (const name of [target, ...child.value.includes]) if (!includes.includes(name)) includes.push(name);
      if (child.value.height + 1 > height) {
        height = child.value.height + 1;
        deepest = [path, ...child.value.deepest];
      }
    }
    return { ok: true, value: { segments, height, deepest, includes } };
  }

  function compile(path: string): CompileOutcome {
    const expanded = expand(path, 0);
    if ('tooDeep' in expanded) {
      const limit = deps.limits.includeDepth;
      error(
        'prompt.include-too-deep',
        path,
        `includes ${quote(expanded.tooDeep[1] ?? path)}, and includes then nest more than ${limit} deep: ${expanded.tooDeep.join(' → ')}`,
        expanded.at,
      );
      return { ok: false, reason: `its includes nest more than ${limit} deep` };
    }
    if (!expanded.ok) return expanded;
    const unit = load(path);
    if (!unit.ok) return unit;
    const { segments, includes } = expanded.value;
    const bytes = segments.reduce((n, s) => n + (typeof s === 'string' ? utf8Length(s) : s.variable.length + 2), 0);
    if (bytes > deps.limits.promptBytes) {
      const size = `${formatKiB(bytes)} after includes; prompts may be at most ${formatKiB(deps.limits.promptBytes)}`;
      error('prompt.too-large', path, `is ${size}, so it is skipped; shorten it or split it`);
      return { ok: false, reason: `it is ${size}` };
    }
    const { frontMatter } = unit.value;
    return {
      ok: true,
      prompt: Object.freeze({
        path,
        description: frontMatter.description,
        parameters: Object.freeze({ ...frontMatter.parameters }),
        includes: Object.freeze(includes),
        segments: Object.freeze(segments.map(detach)),
        bytes,
      }),
    };
  }

  return { compile, used: () => touched };
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

function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
}

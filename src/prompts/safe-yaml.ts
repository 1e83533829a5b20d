import { firstTooDeep } from '../yaml/nesting-guard.ts';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import { makeProblem, quote, type Position } from './problems.ts';
import { positionOfIndex } from './text.ts';
import type { Problem } from './types.ts';
import { messageOf } from '../log/error-message.ts';

/**
 * YAML from a repository, parsed so that hostile documents cost little and
 * say where they went wrong: duplicate keys are errors, aliases are counted
 * (no bombs), nesting is bounded, and nothing is ever converted wholesale to
 * JS — callers read the node tree, which keeps every position.
 */
export interface YamlDocument {
  readonly contents: Node | null;
  /** Where a node starts. */
  at(node: Node | null | undefined): Position | undefined;
  /** The node an alias points to; other nodes as they are. */
  deref(node: unknown): Node | null;
}

interface YamlOptions {
  maxDepth: number;
  maxAliases: number;
  /** Line of the file on which `text` starts (front matter starts on line 2). */
  firstLine?: number;
}

type YamlParse = { ok: true; yaml: YamlDocument; problems: Problem[] } | { ok: false; problems: Problem[] };

export function parseYamlSafely(text: string, file: string, options: YamlOptions): YamlParse {
  const lineShift = (options.firstLine ?? 1) - 1;
  const lines = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line: line + lineShift, column: col };
  };
  let doc: Document.Parsed;
  try {
    // The composer recurses once per nesting level, and V8 can die outright
    // (not throw) when it compiles a regexp near the stack limit. So nesting
    // is measured on the parser's flat token stream before anything recurses.
    const guard = Math.min(options.maxDepth, MAX_NESTING_GUARD);
    const tooDeep = firstTooDeep(text, guard);
    if (tooDeep !== null) {
      return {
        ok: false,
        problems: [makeProblem('error', 'yaml.too-deep', file, `nests more than ${guard} levels deep; flatten it`, positionOfIndex(text, tooDeep, lineShift + 1))],
      };
    }
    doc = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      // The library's own duplicate check compares every key with every other
      // (quadratic: a front matter of 700 keys took 100 ms); ours is one pass.
      uniqueKeys: false,
      schema: 'core',
      merge: false,
      version: '1.2',
    });
  } catch (error) {
    // The library bounds its own recursion, but a parser bug must not crash the bot.
    return {
      ok: false,
      problems: [
        makeProblem('error', 'yaml.unreadable', file, `could not be read as YAML (${messageOf(error)})`),
      ],
    };
  }
  const problems: Problem[] = [];
  // A document can hold an error every few bytes; the first ones say enough.
  for (const error of doc.errors.slice(0, MAX_REPORTED)) problems.push(describe('error', error, text, file, position));
  for (const warning of doc.warnings.slice(0, MAX_REPORTED)) problems.push(describe('warning', warning, text, file, position));
  const duplicates = duplicateKeys(doc, file, position).slice(0, MAX_REPORTED);
  problems.push(...duplicates);
  if (doc.errors.length > 0 || duplicates.length > 0) return { ok: false, problems };

  const yaml: YamlDocument = {
    contents: doc.contents,
    at: (node) => (node?.range ? position(node.range[0]) : undefined),
    deref: (node) => {
      if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
      return isMap(node) || isSeq(node) || isScalar(node) ? node : null;
    },
  };
  const shapeProblem = checkShape(doc, options, file, yaml);
  if (shapeProblem !== null) return { ok: false, problems: [...problems, shapeProblem] };
  return { ok: true, yaml, problems };
}

/**
 * Keys repeated in one mapping, each reported at the repeat, in document
 * order. Scalar keys are equal when their values are (as the library's own
 * check has it); other keys are never equal.
 */
function duplicateKeys(doc: Document.Parsed, file: string, position: (offset: number) => Position): Problem[] {
  const found: Array<{ offset: number; problem: Problem }> = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key)) {
          if (seen.has(key.value)) {
            const offset = key.range?.[0] ?? 0;
            const shown = key.source ?? String(key.value);
            found.push({
              offset,
              problem: makeProblem('error', 'yaml.duplicate-key', file, `repeats the key ${quote(String(shown))} in the same mapping; keep only one`, position(offset)),
            });
          } else seen.add(key.value);
        } else stack.push(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return found.sort((a, b) => a.offset - b.offset).map((f) => f.problem);
}

/** Errors, warnings and repeated keys reported per document, each. */
const MAX_REPORTED = 20;

/** Nesting the composer is ever asked to recurse through, whatever the configured limit. */
const MAX_NESTING_GUARD = 64;

/** Depth and alias bounds, checked with an explicit stack (never recursion on hostile input). */
function checkShape(doc: Document.Parsed, options: YamlOptions, file: string, yaml: YamlDocument): Problem | null {
  let aliases = 0;
  const stack: Array<[unknown, number]> = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isAlias(node)) {
      aliases += 1;
      if (aliases > options.maxAliases) {
        return makeProblem(
          'error',
          'yaml.too-many-aliases',
          file,
          `uses more than ${options.maxAliases} aliases (\`*name\`); write the values out instead`,
          yaml.at(node),
        );
      }
      if (node.resolve(doc) === undefined) {
        return makeProblem(
          'error',
          'yaml.bad-alias',
          file,
          `uses the alias ${quote(`*${node.source}`)}, which names no anchor defined before it`,
          yaml.at(node),
        );
      }
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > options.maxDepth) {
      return makeProblem(
        'error',
        'yaml.too-deep',
        file,
        `nests more than ${options.maxDepth} levels deep; flatten it`,
        yaml.at(node),
      );
    }
    // Pushed in reverse so nodes are visited in document order: the first offender is reported.
    for (let k = node.items.length - 1; k >= 0; k--) {
      const item = node.items[k];
      if (isPair(item)) {
        stack.push([item.value, depth + 1], [item.key, depth + 1]);
      } else {
        stack.push([item, depth + 1]);
      }
    }
  }
  return null;
}

function describe(
  severity: 'error' | 'warning',
  error: YAMLError,
  text: string,
  file: string,
  position: (offset: number) => Position,
): Problem {
  const at = position(error.pos[0]);
  const code = `yaml.${error.code.toLowerCase().replace(/_/g, '-')}`;
  let message: string;
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const key = text.slice(error.pos[0], error.pos[0] + 200).split('\n')[0]!.replace(/\s*:.*$/, '');
      message = `repeats the key ${quote(key)} in the same mapping; keep only one`;
      break;
    }
    case 'TAB_AS_INDENT':
      message = 'is indented with a tab; YAML needs spaces';
      break;
    case 'RESOURCE_EXHAUSTION':
      message = 'nests too deeply or uses too many aliases; simplify it';
      break;
    case 'MULTIPLE_DOCS':
      message = 'holds more than one YAML document (a second `---`); keep one';
      break;
    default:
      message = `is not valid YAML here: ${error.message.split('\n')[0]!.replace(/\.$/, '')}`;
  }
  return makeProblem(severity, code, file, message, at);
}

/**
 * YAML parsing that remembers where things are, so validation errors can
 * name the line and column of the offending key or value.
 */
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ConfigProblem } from './problems.ts';
import { firstTooDeep } from '../../yaml/nesting-guard.ts';

/** Aliases are bounded so a "billion laughs" file cannot blow up memory. */
const MAX_ALIASES = 50;

export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  /** Syntax problems; when non-empty, `toJS()` must not be trusted. */
  readonly problems: ConfigProblem[];
  /** Line and column of the node at `path`, or of its nearest ancestor that exists. */
  locate(path: readonly PropertyKey[], which?: 'key' | 'value'): { line: number; column: number } | undefined;
  /** Line and column of a character offset. */
  position(offset: number): { line: number; column: number };
  /** The plain value; fails (with a located problem) when aliases expand too far. */
  toJS(): { ok: true; value: unknown } | { ok: false; problem: ConfigProblem };
}

/** Operator files nest a handful of levels; far deeper is a mistake or an attack on the parser. */
const MAX_NESTING = 64;

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const tooDeep = firstTooDeep(text, MAX_NESTING);
  if (tooDeep !== null) {
    // Parse nothing: composing this document recursively could abort the process.
    text = '';
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const position = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const problems: ConfigProblem[] = [...doc.errors, ...doc.warnings].map((error) => ({
    file,
    ...position(error.pos[0]),
    message: `invalid YAML: ${error.message}`,
  }));
  if (tooDeep !== null) {
    problems.push({ file, line: 1, column: 1, message: `invalid YAML: nested more than ${MAX_NESTING} levels deep` });
  }

  const locate = (path: readonly PropertyKey[], which: 'key' | 'value' = 'value') => {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth).map((part) => (typeof part === 'symbol' ? String(part) : part));
      if (which === 'key' && depth === path.length && depth > 0) {
        const parent = prefix.length === 1 ? doc.contents : doc.getIn(prefix.slice(0, -1), true);
        const last = prefix[prefix.length - 1];
        if (isMap(parent)) {
          const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
          const keyNode = pair?.key as YamlNode | undefined;
          if (keyNode?.range) return position(keyNode.range[0]);
        }
        continue;
      }
      const node = depth === 0 ? doc.contents : (doc.getIn(prefix, true) as YamlNode | undefined);
      if (node && typeof node === 'object' && 'range' in node && node.range) return position(node.range[0]);
    }
    return undefined;
  };

  return {
    file,
    doc,
    problems,
    locate,
    position,
    toJS: () => {
      try {
        return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIASES }) as unknown };
      } catch (error) {
        return { ok: false, problem: { file, message: `invalid YAML: ${(error as Error).message}` } };
      }
    },
  };
}

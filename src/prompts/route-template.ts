import { checkRepoPath, type PathIssue } from './repo-path.ts';
import { DEFAULT_SEGMENT } from './sanitize.ts';
import { MESSAGES_VARIABLE } from './variables.ts';

/**
 * A route pattern compiled once at parse time, so that routing a request is
 * string concatenation: literal text, and indexes into `variables`.
 */
export interface RouteTemplate {
  /** The pattern as written, without any leading `./`. */
  readonly source: string;
  readonly parts: readonly (string | number)[];
  /** Distinct variable names in order of first appearance. */
  readonly variables: readonly string[];
}

type CompileTemplateResult = { ok: true; template: RouteTemplate } | { ok: false; issue: PathIssue };

const BRACED_NAME = /\{([A-Za-z_][A-Za-z0-9_]*)\}/y;

export function compileRouteTemplate(source: string, known: ReadonlySet<string>): CompileTemplateResult {
  const parts: (string | number)[] = [];
  const variables: string[] = [];
  let filler = '';
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '}') {
      return fail('path.brace', 'has a `}` without a matching `{`', i);
    }
    if (ch !== '{') {
      literal += ch;
      filler += ch;
      i += 1;
      continue;
    }
    BRACED_NAME.lastIndex = i;
    const m = BRACED_NAME.exec(source);
    if (m === null) {
      return fail('path.brace', 'has a `{` that does not start a variable such as `{category}`', i);
    }
    const name = m[1]!;
    if (name === MESSAGES_VARIABLE) {
      return fail('path.unknown-variable', 'uses `{messages}`, which only prompt bodies may use', i);
    }
    if (!known.has(name)) {
      const list = [...known].map((k) => `{${k}}`).join(', ');
      return fail('path.unknown-variable', `uses \`{${name}}\`, which is not a variable; use one of ${list}`, i);
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    let index = variables.indexOf(name);
    if (index === -1) index = variables.push(name) - 1;
    parts.push(index);
    // Same-length filler keeps offsets of later issues true; `x` is a safe character.
    filler += 'x'.repeat(m[0].length);
    i += m[0].length;
  }
  if (literal !== '') parts.push(literal);
  const issue = checkRepoPath(filler);
  if (issue !== null) return { ok: false, issue };
  if (!source.endsWith('.md')) {
    return fail('path.not-markdown', 'does not end in `.md`; a route must name a prompt file', source.length);
  }
  return { ok: true, template: { source, parts, variables } };
}

/**
 * The path for one variant: `values[i]` (already sanitized) for each variable,
 * except that the last `defaulted` variables become `default`.
 */
export function expandTemplate(template: RouteTemplate, values: readonly string[], defaulted: number): string {
  const firstDefaulted = template.variables.length - defaulted;
  let out = '';
  for (const part of template.parts) {
    out += typeof part === 'string' ? part : part >= firstDefaulted ? DEFAULT_SEGMENT : values[part]!;
  }
  return out;
}

function fail(code: string, message: string, offset: number): CompileTemplateResult {
  return { ok: false, issue: { code, message, offset } };
}

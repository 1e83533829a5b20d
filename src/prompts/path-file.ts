import { isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap } from 'yaml';
import type { PromptLimits } from './limits.ts';
import type { PathFormat, Route, Routing, WhenFilter } from './parsed.ts';
import { makeProblem, quote, type Position } from './problems.ts';
import { stripLeadingDotSlash } from './repo-path.ts';
import { compileRouteTemplate } from './route-template.ts';
import { parseYamlSafely, type YamlDocument } from './safe-yaml.ts';
import { sanitizeSegment } from './sanitize.ts';
import type { Problem } from './types.ts';
import { CONTEXT_VARIABLES, MESSAGES_VARIABLE } from './variables.ts';

export const PATH_FILE = 'PATH';

interface PathFileResult {
  /** Null when the file has any error: a half-understood routing could pick the wrong prompt. */
  routing: Routing | null;
  /**
   * The routes that were understood despite errors (null when none were), so
   * `prompts validate` can also check the prompt files they reach. Never served.
   */
  partial: Routing | null;
  problems: Problem[];
}

const TOP_KEYS = ['version', 'routes', 'fallback_chain', 'variables', 'config'];
const ROUTE_NAME = /^[a-z][a-z0-9_]*$/;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;
const MAX_VARIABLE_VALUE_CHARS = 200;

/**
 * Whether the file means to be YAML. The contract reads anything that is not a
 * YAML mapping with `routes` as line patterns, but a YAML file with a typo must
 * get YAML errors, not "line 1 is not a path".
 */
const LOOKS_LIKE_YAML = /^[ \t{,-]*["']?(?:version|routes|fallback_chain|variables)["']?[ \t]*:/m;

/** Reads the PATH file (LF-normalized text) in whichever of the three formats it is written. */
export function parsePathFile(text: string, limits: PromptLimits, file: string = PATH_FILE): PathFileResult {
  const withoutComments = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  return LOOKS_LIKE_YAML.test(withoutComments)
    ? readYamlRouting(text, limits, file)
    : readLineRouting(text, limits, file);
}

function readLineRouting(text: string, limits: PromptLimits, file: string): PathFileResult {
  const problems: Problem[] = [];
  const error = (code: string, message: string, at: Position): void => {
    problems.push(makeProblem('error', code, file, message, at));
  };
  const known = new Set<string>(CONTEXT_VARIABLES);
  const routes: Route[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  let patterns = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const lineNo = index + 1;
    const indent = line.length - line.trimStart().length;
    patterns += 1;
    if (patterns > limits.maxRoutes) {
      error('path.too-many-routes', `has more than ${limits.maxRoutes} patterns; remove some`, { line: lineNo, column: 1 });
      return { routing: null, partial: null, problems };
    }
    const hash = trimmed.indexOf('#');
    if (hash !== -1) {
      error(
        'path.inline-comment',
        'has a comment after a pattern; put comments on their own line starting with `#`',
        { line: lineNo, column: indent + hash + 1 },
      );
      continue;
    }
    if (trimmed.length > limits.patternChars) {
      error(
        'path.pattern-too-long',
        `has a pattern of ${trimmed.length} characters; at most ${limits.patternChars} are allowed`,
        { line: lineNo, column: indent + 1 },
      );
      continue;
    }
    const cut = stripLeadingDotSlash(trimmed);
    const compiled = compileRouteTemplate(trimmed.slice(cut), known);
    if (!compiled.ok) {
      error(compiled.issue.code, `pattern ${quote(trimmed)} ${compiled.issue.message}`, {
        line: lineNo,
        column: indent + cut + compiled.issue.offset + 1,
      });
      continue;
    }
    const earlier = seen.get(compiled.template.source);
    if (earlier !== undefined) {
      problems.push(
        makeProblem(
          'warning',
          'path.duplicate-pattern',
          file,
          `repeats the pattern on line ${earlier}; the second copy is never used`,
          { line: lineNo, column: indent + 1 },
        ),
      );
      continue;
    }
    seen.set(compiled.template.source, lineNo);
    routes.push({
      name: `line ${lineNo}`,
      template: compiled.template,
      when: null,
      location: { file, line: lineNo, column: indent + 1 },
    });
  }
  if (routes.length === 0 && !problems.some((p) => p.severity === 'error')) {
    error('path.no-routes', 'has no routes; add a pattern such as `prompts/{category}/default.md`', {
      line: 1,
      column: 1,
    });
  }
  const routing = routes.length === 0 ? null : buildRouting('lines', 'v1', routes, null, Object.create(null));
  if (problems.some((p) => p.severity === 'error')) return { routing: null, partial: routing, problems };
  return { routing, partial: routing, problems };
}

function readYamlRouting(text: string, limits: PromptLimits, file: string): PathFileResult {
  const parsed = parseYamlSafely(text, file, { maxDepth: limits.yamlMaxDepth, maxAliases: limits.yamlMaxAliases });
  if (!parsed.ok) return { routing: null, partial: null, problems: parsed.problems };
  const { yaml } = parsed;
  const problems = parsed.problems;
  const reader = new RoutingReader(yaml, file, problems, limits);
  const routing = reader.read();
  const failed = problems.some((p) => p.severity === 'error');
  return { routing: failed ? null : routing, partial: routing ?? reader.partial, problems };
}

interface Field {
  key: Scalar;
  value: Node | null;
}

/** Reads a YAML PATH document node by node, so every problem has its position. */
class RoutingReader {
  /** The routes read so far when a later part of the file fails. */
  partial: Routing | null = null;

  constructor(
    private readonly yaml: YamlDocument,
    private readonly file: string,
    private readonly problems: Problem[],
    private readonly limits: PromptLimits,
  ) {}

  read(): Routing | null {
    const top = this.yaml.deref(this.yaml.contents);
    if (!isMap(top)) {
      this.error('path.not-mapping', 'is not a YAML mapping with `routes`; see the bundled prompts/PATH for the format', top);
      return null;
    }
    const fields = this.fields(top, 'the top level');
    for (const [name, field] of fields) {
      if (!TOP_KEYS.includes(name)) {
        this.warn(
          'path.unknown-key',
          `has the key ${quote(name)}, which the bot does not read; expected ${TOP_KEYS.map((k) => `\`${k}\``).join(', ')}`,
          field.key,
        );
      }
    }
    const version = this.version(fields.get('version'));
    const variables = this.variables(fields.get('variables'));
    const config = fields.get('config');
    if (config !== undefined && config.value !== null && !isMap(config.value)) {
      this.warn('path.config-type', '`config` should be a mapping; it is reserved and ignored for now', config.key);
    }
    const known = new Set<string>([...CONTEXT_VARIABLES, ...Object.keys(variables)]);
    const routes = this.routes(fields.get('routes'), version, known);
    if (routes === null) return null;
    const chain = this.fallbackChain(fields.get('fallback_chain'), routes);
    // Without a valid version the prompt files cannot be read the way the bot would read them.
    if (routes.length > 0 && version !== null) this.partial = buildRouting(version === 'v2' ? 'yaml-v2' : 'yaml-v1', version, routes, chain, variables);
    if (version === null || chain === null) return null;
    return buildRouting(version === 'v2' ? 'yaml-v2' : 'yaml-v1', version, routes, chain, variables);
  }

  private fields(map: YAMLMap, where: string): Map<string, Field> {
    const out = new Map<string, Field>();
    for (const pair of map.items) {
      const key = this.yaml.deref(pair.key);
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.error('path.key-type', `has a key at ${where} that is not plain text`, key);
        continue;
      }
      out.set(key.value, { key, value: this.yaml.deref(pair.value) });
    }
    return out;
  }

  private version(field: Field | undefined): 'v1' | 'v2' | null {
    if (field === undefined) return 'v1';
    const value = isScalar(field.value) ? field.value.value : null;
    if (value === 'v1' || value === 1) return 'v1';
    if (value === 'v2' || value === 2) return 'v2';
    this.error(
      'path.version',
      `sets \`version\` to ${quote(String(value))}; use \`v1\` or \`v2\``,
      field.value ?? field.key,
    );
    return null;
  }

  private variables(field: Field | undefined): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    if (field === undefined || field.value === null) return out;
    if (!isMap(field.value)) {
      this.error('path.variables-type', '`variables` must be a mapping of variable names to default values', field.key);
      return out;
    }
    for (const [name, entry] of this.fields(field.value, '`variables`')) {
      if (!VARIABLE_NAME.test(name) || name === MESSAGES_VARIABLE) {
        this.error(
          'path.variable-name',
          `declares the variable ${quote(name)}; names are lowercase letters, digits and \`_\`, and \`messages\` is reserved`,
          entry.key,
        );
        continue;
      }
      const value = isScalar(entry.value) ? entry.value.value : undefined;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        this.error('path.variable-value', `gives the variable \`${name}\` no plain value; write text or a number`, entry.key);
        continue;
      }
      const text = String(value);
      if (text.length > MAX_VARIABLE_VALUE_CHARS) {
        this.error(
          'path.variable-value',
          `gives the variable \`${name}\` a value of ${text.length} characters; at most ${MAX_VARIABLE_VALUE_CHARS} are allowed`,
          entry.key,
        );
        continue;
      }
      out[name] = text;
    }
    return out;
  }

  private routes(field: Field | undefined, version: 'v1' | 'v2' | null, known: ReadonlySet<string>): Route[] | null {
    if (field === undefined) {
      this.problems.push(
        makeProblem('error', 'path.no-routes', this.file, 'has no `routes` mapping; add one (see the bundled prompts/PATH)', {
          line: 1,
          column: 1,
        }),
      );
      return null;
    }
    if (!isMap(field.value) || field.value.items.length === 0) {
      this.error('path.no-routes', '`routes` must be a non-empty mapping of route names to paths', field.key);
      return null;
    }
    if (field.value.items.length > this.limits.maxRoutes) {
      this.error(
        'path.too-many-routes',
        `has ${field.value.items.length} routes; at most ${this.limits.maxRoutes} are allowed`,
        field.key,
      );
      return null;
    }
    const routes: Route[] = [];
    for (const [name, entry] of this.fields(field.value, '`routes`')) {
      if (!ROUTE_NAME.test(name)) {
        this.error(
          'path.route-name',
          `has the route name ${quote(name)}; route names are lowercase letters, digits and \`_\`, starting with a letter`,
          entry.key,
        );
        continue;
      }
      const route = this.route(name, entry, version, known);
      if (route !== null) routes.push(route);
    }
    return routes;
  }

  private route(name: string, entry: Field, version: 'v1' | 'v2' | null, known: ReadonlySet<string>): Route | null {
    let patternNode: Node | null = entry.value;
    let when: WhenFilter | null = null;
    if (isMap(entry.value)) {
      if (version !== 'v2') {
        this.error(
          'path.route-object-needs-v2',
          `route \`${name}\` is an object (\`path\`/\`when\`), which needs \`version: v2\``,
          entry.key,
        );
        return null;
      }
      const fields = this.fields(entry.value, `route \`${name}\``);
      for (const [key, field] of fields) {
        if (key !== 'path' && key !== 'when') {
          this.error('path.route-key', `route \`${name}\` has the key ${quote(key)}; use \`path\` and \`when\``, field.key);
          return null;
        }
      }
      patternNode = fields.get('path')?.value ?? null;
      const whenField = fields.get('when');
      if (whenField !== undefined) {
        when = this.when(name, whenField, known);
        if (when === null) return null;
      }
    }
    if (!isScalar(patternNode) || typeof patternNode.value !== 'string') {
      this.error(
        'path.route-type',
        version === 'v2'
          ? `route \`${name}\` needs a path in quotes, or an object with \`path\` and \`when\``
          : `route \`${name}\` needs a path in quotes`,
        entry.key,
      );
      return null;
    }
    const pattern = patternNode.value;
    if (pattern.length > this.limits.patternChars) {
      this.error(
        'path.pattern-too-long',
        `route \`${name}\` is ${pattern.length} characters long; at most ${this.limits.patternChars} are allowed`,
        entry.key,
      );
      return null;
    }
    const compiled = compileRouteTemplate(pattern.slice(stripLeadingDotSlash(pattern)), known);
    if (!compiled.ok) {
      this.error(compiled.issue.code, `route \`${name}\` ${compiled.issue.message}`, entry.key);
      return null;
    }
    const at = this.yaml.at(entry.key);
    return {
      name,
      template: compiled.template,
      when,
      location: { file: this.file, ...(at ? { line: at.line, column: at.column } : {}) },
    };
  }

  private when(route: string, field: Field, known: ReadonlySet<string>): WhenFilter | null {
    if (!isMap(field.value)) {
      this.error('path.when-type', `route \`${route}\` has a \`when\` that is not a mapping of variables to values`, field.key);
      return null;
    }
    const filter: Array<{ variable: string; values: ReadonlySet<string> }> = [];
    for (const [variable, entry] of this.fields(field.value, `the \`when\` of route \`${route}\``)) {
      if (!known.has(variable)) {
        this.error('path.when-variable', `route \`${route}\` has \`when\` on ${quote(variable)}, which is not a variable`, entry.key);
        return null;
      }
      const nodes = isSeq(entry.value) ? entry.value.items.map((n) => this.yaml.deref(n)) : [entry.value];
      const values = new Set<string>();
      for (const node of nodes) {
        const raw = isScalar(node) ? node.value : undefined;
        const value =
          typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean'
            ? sanitizeSegment(String(raw))
            : undefined;
        if (value === undefined) {
          this.error(
            'path.when-value',
            `route \`${route}\` has \`when: ${variable}\` with a value that is not plain text`,
            node ?? entry.key,
          );
          return null;
        }
        values.add(value);
      }
      if (values.size === 0) {
        this.error('path.when-value', `route \`${route}\` has \`when: ${variable}\` with no values`, entry.key);
        return null;
      }
      filter.push({ variable, values });
    }
    return filter;
  }

  private fallbackChain(field: Field | undefined, routes: readonly Route[]): string[] | null {
    const names = routes.map((r) => r.name);
    if (field === undefined || field.value === null) return names;
    if (!isSeq(field.value) || field.value.items.length === 0) {
      this.error('path.fallback-chain-type', '`fallback_chain` must be a non-empty list of route names', field.key);
      return null;
    }
    const chain: string[] = [];
    for (const item of field.value.items) {
      const node = this.yaml.deref(item);
      const name = isScalar(node) ? node.value : undefined;
      if (typeof name !== 'string' || !names.includes(name)) {
        this.error(
          'path.unknown-route',
          `\`fallback_chain\` names ${quote(String(name))}, which is not a route; routes are ${names.map((n) => `\`${n}\``).join(', ')}`,
          node ?? field.key,
        );
        continue;
      }
      if (chain.includes(name)) {
        this.warn('path.duplicate-chain-entry', `\`fallback_chain\` names \`${name}\` twice; the second is ignored`, node);
        continue;
      }
      chain.push(name);
    }
    for (const route of routes) {
      if (!chain.includes(route.name)) {
        this.problems.push(
          makeProblem(
            'warning',
            'path.unused-route',
            this.file,
            `route \`${route.name}\` is not in \`fallback_chain\`, so it is never used`,
            route.location.line !== undefined ? { line: route.location.line, column: route.location.column ?? 1 } : undefined,
          ),
        );
      }
    }
    return chain;
  }

  private error(code: string, message: string, node: Node | null | undefined): void {
    this.problems.push(makeProblem('error', code, this.file, message, this.yaml.at(node)));
  }

  private warn(code: string, message: string, node: Node | null | undefined): void {
    this.problems.push(makeProblem('warning', code, this.file, message, this.yaml.at(node)));
  }
}

function buildRouting(
  format: PathFormat,
  version: 'v1' | 'v2',
  routes: Route[],
  fallbackChain: string[] | null,
  variables: Record<string, string>,
): Routing {
  const names = fallbackChain ?? routes.map((r) => r.name);
  const byName = new Map(routes.map((r) => [r.name, r]));
  const chain = names.map((n) => byName.get(n)).filter((r): r is Route => r !== undefined);
  const keyVariables = new Set<string>();
  for (const route of chain) {
    for (const v of route.template.variables) keyVariables.add(v);
    for (const condition of route.when ?? []) keyVariables.add(condition.variable);
  }
  return Object.freeze({
    format,
    version,
    routes: Object.freeze(routes),
    fallbackChain: Object.freeze(names),
    chain: Object.freeze(chain),
    variables: Object.freeze(variables),
    keyVariables: Object.freeze([...keyVariables]),
  });
}

/**
 * `${VAR}` and `${VAR:default}` in the config file. Substitution runs on the
 * parsed YAML's string values, never on the raw text, so an environment value
 * cannot inject YAML structure (a value containing `\n  enabled: false` stays
 * one string). Keys and comments are left alone.
 *
 * - `${VAR}`: the variable's value (even when empty); an error when unset.
 * - `${VAR:default}`: the value when set and non-empty, else `default`.
 * - `$${` is a literal `${`.
 * - An unquoted value that is exactly one reference and yields a number or
 *   boolean becomes that number or boolean (`timeout_ms: ${TIMEOUT:5000}`);
 *   quote it to keep a string.
 */
import { parse as parseYamlScalar, visit } from 'yaml';
import type { ConfigProblem } from './problems.ts';
import type { YamlSource } from './yaml-source.ts';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE_REFERENCE = /^\$\{[^}]*\}$/;

export type Environment = Readonly<Record<string, string | undefined>>;

/** Rewrites the document's string values in place; returns one problem per bad or unset reference. */
export function substituteEnvironment(source: YamlSource, env: Environment): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(source.doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const original = node.value;
      const at = node.range ? source.position(node.range[0]) : {};
      const result = substitute(original, env);
      for (const message of result.problems) problems.push({ file: source.file, ...at, message });
      if (result.problems.length > 0) return;
      node.value = node.type === 'PLAIN' && WHOLE_REFERENCE.test(original) ? retype(result.text) : result.text;
    },
  });
  return problems;
}

function substitute(text: string, env: Environment): { text: string; problems: string[] } {
  const problems: string[] = [];
  const out = text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      problems.push('unterminated "${" (write "$${" for a literal "${")');
      return match;
    }
    const colon = body.indexOf(':');
    const name = colon === -1 ? body : body.slice(0, colon);
    if (!VARIABLE_NAME.test(name)) {
      problems.push(`"\${${body}}" is not a valid variable reference (expected \${NAME} or \${NAME:default})`);
      return match;
    }
    const value = env[name];
    if (colon === -1) {
      if (value === undefined) {
        problems.push(`environment variable ${name} is not set (use \${${name}:default} to give a default)`);
        return match;
      }
      return value;
    }
    return value === undefined || value === '' ? body.slice(colon + 1) : value;
  });
  return { text: out, problems };
}

function retype(value: string): unknown {
  try {
    const parsed: unknown = parseYamlScalar(value);
    if (typeof parsed === 'number' || typeof parsed === 'boolean') return parsed;
  } catch {
    // Not a scalar YAML understands: keep the string.
  }
  return value;
}

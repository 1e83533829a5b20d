/**
 * Turns zod issues into sentences an operator can act on:
 * `field "kind" must be one of provider, processor, hooks (got "provder")`,
 * located at the YAML line and column of the offending node.
 */
import type { z } from 'zod';
import type { ConfigProblem } from './problems.ts';
import { quoteValue, typeName } from './problems.ts';
import type { YamlSource } from './yaml-source.ts';

type Issue = z.core.$ZodIssue;

interface DescribeOptions {
  /**
   * Whether offending values may be quoted. Manifests are code and safe to
   * echo; the config file may hold substituted secrets, so only types are named.
   */
  echoValues: boolean;
}

export function issuesToProblems(
  issues: readonly Issue[],
  input: unknown,
  source: YamlSource,
  options: DescribeOptions,
): ConfigProblem[] {
  return issues.map((issue) => {
    const { message, path, which } = describeIssue(issue, input, options);
    return { file: source.file, ...source.locate(path, which), message };
  });
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeIssue(
  issue: Issue,
  input: unknown,
  options: DescribeOptions,
): { message: string; path: readonly PropertyKey[]; which: 'key' | 'value' } {
  const path = issue.path;
  const value = valueAt(input, path);
  const got = options.echoValues ? quoteValue(value) : typeName(value);
  const field = `field "${fieldName(path)}"`;
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return { message: `${field} is required`, path, which: 'key' };
      return { message: `${field} must be ${article(issue.expected)} (got ${typeName(value)})`, path, which: 'value' };
    case 'invalid_value':
      return {
        message: `${field} must be one of ${issue.values.map(String).join(', ')} (got ${got})`,
        path,
        which: 'value',
      };
    case 'unrecognized_keys': {
      const keys = issue.keys.map((key) => `"${fieldName([...path, key])}"`).join(', ');
      const first = issue.keys[0];
      return {
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`,
        path: first === undefined ? path : [...path, first],
        which: 'key',
      };
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'is not a valid name';
      const key = path[path.length - 1];
      return {
        message: `key "${String(key)}" in "${fieldName(path.slice(0, -1)) || '(top level)'}" ${inner}`,
        path,
        which: 'key',
      };
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
      return { message: `${field} ${issue.message} (got ${got})`, path, which: 'value' };
    default:
      return { message: `${field}: ${issue.message}`, path, which: 'value' };
  }
}

function article(expected: string): string {
  const noun = expected === 'int' ? 'integer' : expected === 'record' ? 'mapping' : expected === 'object' ? 'mapping' : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

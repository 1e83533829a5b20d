/**
 * Start-up problems in plugin manifests and the plugins config file. Each one
 * names the file and, when the YAML parser tells us, the line and column, so
 * an operator can go straight to the mistake.
 */
export interface ConfigProblem {
  file: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  let where = problem.file;
  if (problem.line !== undefined) {
    where += `:${problem.line}`;
    if (problem.column !== undefined) where += `:${problem.column}`;
  }
  return `${where}: ${problem.message}`;
}

/** Thrown when a manifest or the config file cannot be used; carries every problem found, not just the first. */
export class PluginConfigError extends Error {
  override readonly name = 'PluginConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** Quotes a value for an error message, cut short so a huge or multi-line value cannot flood the log. */
export function quoteValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The JSON-ish type name used in messages: "string", "number", "array", "object", "null". */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { PromptLimits } from './limits.ts';
import { makeProblem, quote, type Position } from './problems.ts';
import { checkRepoPath } from './repo-path.ts';
import { parseYamlSafely, type YamlDocument } from './safe-yaml.ts';
import { utf8Length } from './text.ts';
import type { ModelParameters, Problem } from './types.ts';

/** A prompt file cut into its optional front matter and its body. */
interface PromptFileParts {
  /** YAML between the `---` lines, or null when the file has none. */
  frontMatter: string | null;
  /** Line on which the YAML starts. */
  frontMatterLine: number;
  body: string;
  /** Line of the file on which the body starts. */
  bodyLine: number;
}

export interface FrontMatter {
  parameters: ModelParameters;
  description: string | undefined;
  /** Files listed under `includes`, as repository paths ending in `.md`. */
  includes: Array<{ path: string; at: Position | undefined }>;
}

const OPENING = /^---[ \t]*\n/;
const CLOSING = /^(?:---|\.\.\.)[ \t]*$/;

/** Null when the front matter is never closed. Text is LF-normalized. */
export function splitPromptFile(text: string): PromptFileParts | null {
  if (!OPENING.test(text)) return { frontMatter: null, frontMatterLine: 1, body: text, bodyLine: 1 };
  const start = text.indexOf('\n') + 1;
  let lineStart = start;
  let line = 2;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    if (CLOSING.test(text.slice(lineStart, lineEnd))) {
      return {
        frontMatter: text.slice(start, lineStart),
        frontMatterLine: 2,
        body: text.slice(Math.min(lineEnd + 1, text.length)),
        bodyLine: line + 1,
      };
    }
    lineStart = lineEnd + 1;
    line += 1;
  }
  return null;
}

const FRONT_MATTER_KEYS = ['model', 'provider', 'temperature', 'max_tokens', 'description', 'includes'];
const PROVIDER = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;
const MAX_TOKENS = 1_000_000;
const MAX_DESCRIPTION_CHARS = 500;

interface FrontMatterResult {
  frontMatter: FrontMatter | null;
  problems: Problem[];
}

/** Reads front matter YAML; any error makes the whole file unusable (null). */
export function readFrontMatter(yamlText: string, file: string, firstLine: number, limits: PromptLimits): FrontMatterResult {
  const problems: Problem[] = [];
  const empty: FrontMatter = { parameters: {}, description: undefined, includes: [] };
  if (utf8Length(yamlText) > limits.frontMatterBytes) {
    problems.push(
      makeProblem(
        'error',
        'front-matter.too-large',
        file,
        `has front matter over ${limits.frontMatterBytes} bytes; keep it to a few settings`,
        { line: firstLine - 1, column: 1 },
      ),
    );
    return { frontMatter: null, problems };
  }
  const parsed = parseYamlSafely(yamlText, file, {
    maxDepth: limits.yamlMaxDepth,
    maxAliases: limits.yamlMaxAliases,
    firstLine,
  });
  problems.push(...parsed.problems);
  if (!parsed.ok) return { frontMatter: null, problems };
  const { yaml } = parsed;
  const top = yaml.deref(yaml.contents);
  if (top === null) return { frontMatter: empty, problems };
  const at = (node: Node | null | undefined): Position => yaml.at(node) ?? { line: firstLine - 1, column: 1 };
  const error = (code: string, message: string, node: Node | null | undefined): void => {
    problems.push(makeProblem('error', code, file, message, at(node)));
  };
  if (!isMap(top)) {
    error('front-matter.not-mapping', 'has front matter that is not a mapping of settings such as `temperature: 0.3`', top);
    return { frontMatter: null, problems };
  }
  const out: FrontMatter = { parameters: {}, description: undefined, includes: [] };
  let unknownKeys = 0;
  for (const pair of top.items) {
    const keyNode = yaml.deref(pair.key);
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    const valueNode = yaml.deref(pair.value);
    const value = isScalar(valueNode) ? valueNode.value : undefined;
    switch (key) {
      case 'model':
        if (typeof value === 'string' && MODEL.test(value)) out.parameters.model = value;
        else error('front-matter.model', 'sets `model` to something that is not a model name such as `claude-sonnet-4-6`', valueNode ?? keyNode);
        break;
      case 'provider':
        if (typeof value === 'string' && PROVIDER.test(value)) out.parameters.provider = value;
        else error('front-matter.provider', 'sets `provider` to something that is not a provider name such as `anthropic`', valueNode ?? keyNode);
        break;
      case 'temperature':
        if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 2) out.parameters.temperature = value;
        else error('front-matter.temperature', 'sets `temperature` outside 0 to 2; use a number such as `0.3`', valueNode ?? keyNode);
        break;
      case 'max_tokens':
        if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TOKENS) out.parameters.max_tokens = value;
        else error('front-matter.max-tokens', `sets \`max_tokens\` to something that is not a whole number from 1 to ${MAX_TOKENS}`, valueNode ?? keyNode);
        break;
      case 'description':
        if (typeof value === 'string' && value.length <= MAX_DESCRIPTION_CHARS) out.description = value.trim();
        else error('front-matter.description', `sets \`description\` to something that is not text of at most ${MAX_DESCRIPTION_CHARS} characters`, valueNode ?? keyNode);
        break;
      case 'includes':
        if (!readIncludes(yaml, valueNode, out, error, keyNode)) return { frontMatter: null, problems };
        break;
      default:
        // Each file may say a few times that a key is not read; thousands of lines of it help nobody.
        unknownKeys += 1;
        if (unknownKeys > limits.unknownVariableWarnings) break;
        problems.push(
          makeProblem(
            'warning',
            'front-matter.unknown-key',
            file,
            `has the front matter key ${quote(String(key))}, which the bot does not read; known keys are ${FRONT_MATTER_KEYS.map((k) => `\`${k}\``).join(', ')}`,
            at(keyNode),
          ),
        );
    }
  }
  if (unknownKeys > limits.unknownVariableWarnings) {
    problems.push(
      makeProblem(
        'warning',
        'front-matter.unknown-key',
        file,
        `has ${unknownKeys - limits.unknownVariableWarnings} more front matter keys that the bot does not read`,
        { line: firstLine - 1, column: 1 },
      ),
    );
  }
  if (problems.some((p) => p.severity === 'error')) return { frontMatter: null, problems };
  return { frontMatter: out, problems };
}

function readIncludes(
  yaml: YamlDocument,
  node: Node | null,
  out: FrontMatter,
  error: (code: string, message: string, node: Node | null | undefined) => void,
  keyNode: Node | null,
): boolean {
  const items = isSeq(node) ? node.items.map((n) => yaml.deref(n)) : node === null ? [] : [node];
  for (const item of items) {
    const raw = isScalar(item) ? item.value : undefined;
    if (typeof raw !== 'string') {
      error('front-matter.includes', '`includes` must list repository paths such as `shared/rules.md`', item ?? keyNode);
      return false;
    }
    const path = includePath(raw);
    const issue = checkRepoPath(path);
    if (issue !== null) {
      error(issue.code, `lists the include ${quote(raw)}, which ${issue.message}`, item);
      return false;
    }
    out.includes.push({ path, at: yaml.at(item) });
  }
  return true;
}

/** An include as written → its repository path: `.md` may be left off. */
export function includePath(written: string): string {
  const trimmed = written.trim();
  return trimmed.endsWith('.md') ? trimmed : `${trimmed}.md`;
}

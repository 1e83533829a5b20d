import { lstat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PROMPT_LIMITS } from '../../prompts/limits.ts';
import { formatProblem, hasErrors, REPOSITORY_FILE, sortProblems } from '../../prompts/problems.ts';
import { parseSnapshot } from '../../prompts/snapshot.ts';
import { isSourceError } from '../../prompts/sources/source.ts';
import { readDirectorySnapshot } from '../../prompts/sources/local-dir-source.ts';
import type { Problem, RawSnapshot } from '../../prompts/types.ts';
import { errorLine, UsageError, type CliCommand, type CliContext } from '../command.ts';
import { messageOf } from '../../log/error-message.ts';

const USAGE = `Usage: recap prompts validate <dir> [--format text|github]

Checks a prompt repository (a folder holding a PATH file) the way the bot
checks a guild's repository, and prints one line per problem:
  file:line:col: message

Options:
  --format text     plain lines (default)
  --format github   GitHub Actions annotations (::error file=…,line=…,col=…::message)
  -h, --help        show this help

Exit status: 0 when the repository is valid (warnings allowed), 1 when it has
errors, 2 for bad arguments.`;

export const promptsValidateCommand: CliCommand = {
  name: 'prompts-validate',
  usage: USAGE,
  run,
};

async function run(ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: ctx.argv,
      options: { format: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  if (parsed.values.help === true) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format = parsed.values.format ?? 'text';
  if (format !== 'text' && format !== 'github') {
    throw new UsageError(`--format must be \`text\` or \`github\`, not ${JSON.stringify(format)}`);
  }
  // Accept both `prompts-validate <dir>` and `prompts validate <dir>` spellings.
  const positionals = parsed.positionals[0] === 'validate' && parsed.positionals.length === 2 ? parsed.positionals.slice(1) : parsed.positionals;
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'name the folder to validate' : `expected one folder, got ${positionals.length}`);
  }
  const shown = positionals[0]!;
  const dir = resolve(ctx.cwd, shown);
  try {
    const stats = await lstat(dir);
    if (!stats.isDirectory()) {
      ctx.stderr.write(errorLine(`${shown}: not a folder`));
      return 1;
    }
  } catch (error) {
    ctx.stderr.write(errorLine(`${shown}: cannot be read (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`));
    return 1;
  }
  let snapshot: RawSnapshot;
  try {
    snapshot = await readDirectory(dir, VALIDATE_READ_LIMITS);
  } catch (error) {
    if (!isSourceError(error)) throw error;
    ctx.stdout.write(`${format === 'github' ? annotation({ file: shown, severity: 'error', code: 'repo.unreadable', message: error.message }) : `${shown}: ${error.message}`}\n`);
    return 1;
  }
  const { problems } = parseSnapshot(snapshot, undefined, { exhaustive: true });
  const sorted = sortProblems(problems);
  for (const problem of sorted) {
    const located = { ...problem, file: displayPath(shown, problem.file) };
    ctx.stdout.write(`${format === 'github' ? annotation(located) : formatProblem(located)}\n`);
  }
  const errors = sorted.filter((p) => p.severity === 'error').length;
  const warnings = sorted.length - errors;
  ctx.stderr.write(
    `${shown}: ${errors === 0 ? 'valid' : 'invalid'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}, ${snapshot.files.size} files)\n`,
  );
  return hasErrors(problems) ? 1 : 0;
}

/** `::error file=…,line=…,col=…::message`, escaped as GitHub's workflow commands require. */
function annotation(p: Problem): string {
  const props = [`file=${escapeProperty(p.file)}`];
  if (p.line !== undefined) props.push(`line=${p.line}`);
  if (p.column !== undefined) props.push(`col=${p.column}`);
  return `::${p.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeData(p.message)}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function displayPath(shownDir: string, file: string): string {
  const base = shownDir.replace(/\\/g, '/');
  return file === REPOSITORY_FILE ? posix.normalize(base) : posix.join(base, file);
}

/**
 * A repository somewhat over the bot's limits is still read, so that the size
 * problem is reported beside every other one; far over them, reading stops.
 */
const VALIDATE_READ_LIMITS = {
  ...DEFAULT_PROMPT_LIMITS,
  maxFiles: DEFAULT_PROMPT_LIMITS.maxFiles * 4,
  snapshotBytes: DEFAULT_PROMPT_LIMITS.snapshotBytes * 4,
};

/** The folder as a snapshot, read exactly as the bundled prompts and `prompts resolve` read one. */
export async function readDirectory(root: string, limits = DEFAULT_PROMPT_LIMITS): Promise<RawSnapshot> {
  return readDirectorySnapshot(root, { maxFiles: limits.maxFiles, maxBytes: limits.snapshotBytes });
}

import type { Writable } from 'node:stream';

/** What every CLI command gets: explicit streams and environment, so tests can run commands in-process. */
export interface CliContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
}

/** One subcommand of `npm run recap -- <name>`: one file each under src/cli/commands/. */
export interface CliCommand {
  name: string;
  /** Full usage text printed by `--help` and after a bad flag. */
  usage: string;
  /** Returns the exit code. Throw UsageError for bad arguments (exit 2). */
  run(ctx: CliContext): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Every CLI error line has this one shape, so scripts and people can spot it. */
export function errorLine(message: string): string {
  return `recap: error: ${message}\n`;
}

import { ConfigError } from './config/env.ts';
import { DatabaseUnavailableError } from './db/database.ts';
import { MigrationError } from './db/migrate.ts';
import { KeyringError } from './vault/keyring.ts';
import { redactString } from './log/redact.ts';
import { messageOf } from './log/error-message.ts';
import { PluginConfigError, formatProblem } from './llm/plugin-host/problems.ts';
import { BUILT_IN_CONFIG_FILE } from './llm/plugin-host/config-file.ts';

/**
 * Errors an operator causes and can fix get one clear line; anything else is
 * a bug and keeps its stack.
 */
function describeStartupError(error: unknown): string | undefined {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof KeyringError) return `configuration: ${error.message}`;
  if (error instanceof PluginConfigError) {
    const fromFile = error.problems.some((problem) => problem.file !== BUILT_IN_CONFIG_FILE);
    return `configuration: ${fromFile ? 'PLUGINS_CONFIG ' : ''}${error.problems.map(formatProblem).join('; ')}`;
  }
  if (error instanceof DatabaseUnavailableError) return `database: ${error.message}`;
  if (error instanceof MigrationError) return `database: ${error.message}`;
  const e = error as { code?: unknown; address?: unknown; port?: unknown } | null;
  if (e?.code === 'EADDRINUSE') {
    return `http: ${String(e.address ?? 'the address')}:${String(e.port ?? '?')} is already in use; stop what listens there or set HTTP_PORT to a free port`;
  }
  if (e?.code === 'TokenInvalid') return 'discord: the login was refused: DISCORD_TOKEN is not a valid bot token (copy it again from the Developer Portal, Bot tab)';
  return undefined;
}

/** Prints a start-up failure and returns the exit code. `prefix` names the program: the service's, or the CLI's error style. */
export function reportStartupFailure(error: unknown, stderr: NodeJS.WritableStream, debug: boolean, prefix = 'recap-bot: '): number {
  const known = describeStartupError(error);
  const line = known ?? `start-up failed: ${messageOf(error)}`;
  stderr.write(`${prefix}${redactString(line)}\n`);
  if (debug || known === undefined) {
    const stack = error instanceof Error ? error.stack : undefined;
    if (stack !== undefined && debug) stderr.write(`${redactString(stack)}\n`);
  }
  return 1;
}

import { UsageError, type CliCommand, type CliContext } from './command.ts';
import { commands as builtIn } from './commands/index.ts';
import { reportStartupFailure } from '../startup-errors.ts';
import { createLogger } from '../log/logger.ts';
import { exitWith } from '../process/exit.ts';
import { installFatalPolicy } from '../process/fatal-policy.ts';

function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: npm run recap -- <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run recap -- <command> --help` for a command\'s options.',
  ].join('\n');
}

/**
 * Resolves `prompts validate` style two-word commands to their registered
 * name (`prompts-validate`), so groups of commands can live in separate files.
 */
function findCommand(commands: readonly CliCommand[], argv: string[]): { command: CliCommand; rest: string[] } | undefined {
  const [first, second, ...after] = argv;
  if (first === undefined) return undefined;
  const pair = second === undefined ? undefined : commands.find((c) => c.name === `${first}-${second}`);
  if (pair !== undefined) return { command: pair, rest: after };
  const single = commands.find((c) => c.name === first);
  return single === undefined ? undefined : { command: single, rest: argv.slice(1) };
}

export async function runCli(ctx: CliContext, commands: readonly CliCommand[] = builtIn): Promise<number> {
  const [first] = ctx.argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? ctx.stderr : ctx.stdout).write(`${overview(commands)}\n`);
    return first === undefined ? 2 : 0;
  }
  const found = findCommand(commands, ctx.argv);
  if (found === undefined) {
    ctx.stderr.write(`recap: unknown command "${first}"\n\n${overview(commands)}\n`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run({ ...ctx, argv: rest });
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.stderr.write(`recap ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    const debug = /^(debug|trace)$/i.test(String(ctx.env.LOG_LEVEL ?? ''));
    return reportStartupFailure(error, ctx.stderr, debug);
  }
}

// Run only when executed directly, so tests can import runCli.
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli/main.ts')) {
  // Errors nothing caught: one policy for the CLI and the service (see fatal-policy.ts).
  installFatalPolicy({ process, logger: createLogger({ level: 'error', format: 'auto', destination: process.stderr }) });
  const code = await runCli({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
  });
  exitWith(code);
}

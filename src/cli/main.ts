import { pathToFileURL } from 'node:url';
import { exitWith } from '../process/exit.ts';
import { errorLine, UsageError, type CliContext } from './command.ts';
import { commands as builtIn, type CommandListing } from './commands/index.ts';

// Only what `recap --help` needs is imported up front; the rest loads with the command that uses it.

const GROUP_SEPARATOR = '-';

function overview(commands: readonly CommandListing[]): string {
  const width = Math.max(...commands.map((c) => spoken(c.name).length));
  return [
    'Usage: recap <command> [options]    (from a checkout: npm run recap -- <command>)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${spoken(c.name).padEnd(width)}  ${c.summary}`),
    '',
    'Run `recap <command> --help` for a command\'s options.',
  ].join('\n');
}

/** `prompts-validate` is typed `prompts validate`. */
function spoken(name: string): string {
  return name.replace(GROUP_SEPARATOR, ' ');
}

function groupOf(commands: readonly CommandListing[], word: string): CommandListing[] {
  return commands.filter((c) => c.name.startsWith(`${word}${GROUP_SEPARATOR}`));
}

function groupHelp(group: string, members: readonly CommandListing[]): string {
  const width = Math.max(...members.map((c) => spoken(c.name).length));
  return [
    `Usage: recap ${group} <${members.map((c) => c.name.slice(group.length + 1)).join('|')}> [options]`,
    '',
    ...members.map((c) => `  ${spoken(c.name).padEnd(width)}  ${c.summary}`),
    '',
    `Run \`recap ${group} <subcommand> --help\` for its options.`,
  ].join('\n');
}

/**
 * Resolves `prompts validate` style two-word commands to their registered
 * name (`prompts-validate`), so groups of commands can live in separate files.
 */
function findCommand(commands: readonly CommandListing[], argv: string[]): { command: CommandListing; rest: string[] } | undefined {
  const [first, second, ...after] = argv;
  if (first === undefined) return undefined;
  const pair = second === undefined ? undefined : commands.find((c) => c.name === `${first}${GROUP_SEPARATOR}${second}`);
  if (pair !== undefined) return { command: pair, rest: after };
  const single = commands.find((c) => c.name === first);
  return single === undefined ? undefined : { command: single, rest: argv.slice(1) };
}

const isHelp = (word: string | undefined): boolean => word === '--help' || word === '-h' || word === 'help';

/** `beforeRun` is called once a command is about to run, not for help or a mistyped command. */
export async function runCli(ctx: CliContext, commands: readonly CommandListing[] = builtIn, beforeRun?: () => Promise<void>): Promise<number> {
  const [first, second] = ctx.argv;
  if (first === undefined || isHelp(first)) {
    (first === undefined ? ctx.stderr : ctx.stdout).write(`${overview(commands)}\n`);
    return first === undefined ? 2 : 0;
  }
  const found = findCommand(commands, ctx.argv);
  if (found === undefined) {
    const members = groupOf(commands, first);
    if (members.length > 0) {
      if (isHelp(second)) {
        ctx.stdout.write(`${groupHelp(first, members)}\n`);
        return 0;
      }
      const problem = second === undefined ? `"${first}" needs a subcommand` : `unknown subcommand "${first} ${second}"`;
      ctx.stderr.write(`${errorLine(problem)}\n${groupHelp(first, members)}\n`);
      return 2;
    }
    ctx.stderr.write(`${errorLine(`unknown command "${first}"`)}\n${overview(commands)}\n`);
    return 2;
  }
  const { rest } = found;
  const command = await found.command.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(`${command.usage}\n`);
    return 0;
  }
  await beforeRun?.();
  try {
    return await command.run({ ...ctx, argv: rest });
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.stderr.write(`${errorLine(`${spoken(command.name)}: ${error.message}`)}\n${command.usage}\n`);
      return 2;
    }
    const debug = /^(debug|trace)$/i.test(String(ctx.env.LOG_LEVEL ?? ''));
    const { reportStartupFailure } = await import('../startup-errors.ts');
    return reportStartupFailure(error, ctx.stderr, debug, 'recap: error: ');
  }
}

/** The CLI as a program: process arguments and streams, the fatal-error policy, the exit code. */
export async function runAsProgram(): Promise<void> {
  // Errors nothing caught: one policy for the CLI and the service (see fatal-policy.ts). Its
  // logger and metrics libraries load only for a command that runs, not for the help.
  const installPolicy = async (): Promise<void> => {
    const [{ createLogger }, { installFatalPolicy }] = await Promise.all([import('../log/logger.ts'), import('../process/fatal-policy.ts')]);
    installFatalPolicy({ process, logger: createLogger({ level: 'error', format: 'auto', destination: process.stderr }) });
  };
  const code = await runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }, builtIn, installPolicy);
  exitWith(code);
}

// `tsx src/cli/main.ts` runs it too; bin.ts is the installed entry.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runAsProgram();

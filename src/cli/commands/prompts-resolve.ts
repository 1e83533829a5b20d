import { parseFlags } from '../args.ts';
import { loadLocalRepo } from '../../prompts/bundled.ts';
import { loadFixedRepo, RepoSpecError, resolveWithFixedRepo, type FixedRepo } from '../../prompts/fixed-repo.ts';
import { formatProblem } from '../../prompts/problems.ts';
import { promptContext } from '../../summaries/summary-context.ts';
import { UsageError, type CliCommand, type CliContext } from '../command.ts';
import { loadCliConfig } from '../cli-config.ts';

const USAGE = `Usage: recap prompts resolve --repo <dir | https://github.com/owner/name> [options]

Shows which prompt the bot would use for a request, and the prompt rendered:
the level of the fallback chain, the file, every path tried, the commit.

Options:
  --repo <dir|url>     a prompt repository on disk, or on GitHub (owner/name works too)
  --ref <branch>       branch, tag or commit of a GitHub repository (default: its default branch)
  --category <c>       discussion, meeting, moderation, chat, or any word your PATH routes
  --channel <name>     channel name
  --type <t>           brief, detailed, comprehensive, action_items, or any routed type
  --perspective <p>    general, developer, executive, ...
  --guild <name>       guild (server) name
  --json               print the resolution as JSON (level, path, tried, commit, content, ...)

GitHub repositories are read anonymously; set GITHUB_TOKEN to read a private one.
Exit status: 0 when the repository was used (or routes nowhere for this request and
the bundled prompts answered), 1 when it is invalid or could not be read, 2 for bad arguments.`;

export const promptsResolveCommand: CliCommand = {
  name: 'prompts-resolve',
  usage: USAGE,
  run,
};

async function run(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(
    ctx.argv,
    {
      repo: { type: 'string' },
      ref: { type: 'string' },
      category: { type: 'string' },
      channel: { type: 'string' },
      type: { type: 'string' },
      perspective: { type: 'string' },
      guild: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.repo === undefined || values.repo.trim() === '') throw new UsageError('--repo is required');
  const config = loadCliConfig(ctx);
  // As given: what a request leaves out, the repository's and the contract's defaults fill.
  const context = promptContext(
    { category: values.category, channelName: values.channel, type: values.type, perspective: values.perspective, guildName: values.guild },
    Date.now(),
  );

  let loaded: FixedRepo;
  try {
    loaded = await loadFixedRepo(values.repo, {
      cwd: ctx.cwd,
      apiUrl: config.github.apiUrl,
      ...(values.ref === undefined ? {} : { ref: values.ref }),
      ...(ctx.env.GITHUB_TOKEN?.trim() ? { token: ctx.env.GITHUB_TOKEN.trim() } : {}),
    });
  } catch (error) {
    if (error instanceof RepoSpecError) throw new UsageError(error.message);
    throw error;
  }
  const bundled = (await loadLocalRepo(config.prompts.dir)).repo;
  const resolved = resolveWithFixedRepo(loaded, bundled, context);

  if (values.json === true) {
    ctx.stdout.write(`${JSON.stringify(resolved, null, 2)}\n`);
  } else {
    const where = resolved.repo === null ? '(compiled-in fallback)' : `${resolved.repo}${resolved.commit ? ` @ ${resolved.commit.slice(0, 7)}` : ''}`;
    ctx.stdout.write(
      [
        `level:   ${resolved.level}`,
        `repo:    ${where}`,
        `path:    ${resolved.path ?? '-'}`,
        `tried:   ${resolved.tried.join(', ') || '-'}`,
        ...resolved.reasons.map((r) => `skipped ${r.level}: ${r.reason}`),
        ...(Object.keys(resolved.parameters).length > 0 ? [`model parameters: ${JSON.stringify(resolved.parameters)}`] : []),
        '',
        resolved.content,
        '',
      ].join('\n'),
    );
  }
  for (const problem of loaded.problems) {
    if (loaded.repo === null || problem.severity === 'warning') ctx.stderr.write(`${formatProblem(problem)}\n`);
  }
  return loaded.repo === null ? 1 : 0;
}

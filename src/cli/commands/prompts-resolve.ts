import { parseFlags } from '../args.ts';
import { loadLocalRepo } from '../../prompts/bundled.ts';
import type { ParsedRepo } from '../../prompts/parsed.ts';
import { formatProblem } from '../../prompts/problems.ts';
import { renderResolved, resolveFromBundled, routeInRepo, type Reason } from '../../prompts/resolver.ts';
import { describeProblems } from '../../prompts/snapshot-cache.ts';
import { parseSnapshot } from '../../prompts/snapshot.ts';
import { createBreakerRegistry } from '../../prompts/sources/breaker-registry.ts';
import { anonymousCredentials, tokenCredentials } from '../../prompts/sources/credentials.ts';
import { GitHubSource } from '../../prompts/sources/github-source.ts';
import { InMemoryRateLimitGate } from '../../prompts/sources/rate-limit-gate.ts';
import { defaultApiBaseUrl, parseRepoUrl } from '../../prompts/sources/repo-url.ts';
import { defaultSourceLimits } from '../../prompts/sources/source.ts';
import type { PromptContext, ResolvedPrompt } from '../../prompts/types.ts';
import { systemClock } from '../../resilience/clock.ts';
import { UsageError, type CliCommand, type CliContext } from '../command.ts';
import { loadCliConfig } from '../runtime.ts';

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
  summary: 'show which prompt a request resolves to, and render it (prompts resolve --repo …)',
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
  const context: PromptContext = {
    ...(values.category === undefined ? {} : { category: values.category }),
    ...(values.channel === undefined ? {} : { channel_name: values.channel }),
    ...(values.type === undefined ? {} : { type: values.type }),
    ...(values.perspective === undefined ? {} : { perspective: values.perspective }),
    ...(values.guild === undefined ? {} : { guild_name: values.guild }),
    date: new Date().toISOString().slice(0, 10),
  };

  const loaded = await loadRepo(values.repo, values.ref, ctx, config.github.apiUrl);
  const bundled = (await loadLocalRepo(config.prompts.dir)).repo;
  const tried: string[] = [];
  const reasons: Reason[] = [];
  let resolved: ResolvedPrompt | undefined;
  if (loaded.repo !== null) {
    const found = routeInRepo(loaded.repo, context, tried);
    if ('prompt' in found) {
      resolved = renderResolved('custom', found.prompt, loaded.repo, context, {
        repo: loaded.label,
        ref: loaded.ref,
        tried,
        reasons,
        staleAgeMs: null,
        warnings: [],
      });
    } else {
      reasons.push({ level: 'custom', reason: `${loaded.label}: ${found.reason}` });
    }
  } else {
    reasons.push({ level: 'custom', reason: `${loaded.label}: ${loaded.error}` });
  }
  resolved ??= resolveFromBundled(bundled, context, tried, reasons);

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
  for (const problem of loaded.problems) ctx.stderr.write(`${formatProblem(problem)}\n`);
  return loaded.repo === null ? 1 : 0;
}

interface LoadedRepo {
  repo: ParsedRepo | null;
  label: string;
  ref: string | null;
  error: string;
  problems: Array<Parameters<typeof formatProblem>[0]>;
}

async function loadRepo(spec: string, ref: string | undefined, ctx: CliContext, apiUrl: string): Promise<LoadedRepo> {
  const looksRemote = /^https?:\/\//.test(spec) || (/^[\w.-]+\/[\w.-]+$/.test(spec) && !(await isDirectory(ctx.cwd, spec)));
  if (!looksRemote) {
    const { resolve } = await import('node:path');
    const local = await loadLocalRepo(resolve(ctx.cwd, spec));
    return {
      repo: local.repo,
      label: spec,
      ref: null,
      error: local.repo === null ? `invalid: ${describeProblems(local.problems)}` : '',
      problems: local.problems.filter((p) => p.severity === 'error' || local.repo !== null),
    };
  }
  const location = parseRepoUrl(spec);
  if (!location.ok) throw new UsageError(location.message);
  const token = ctx.env.GITHUB_TOKEN?.trim();
  const baseUrl = location.host === 'github.com' ? apiUrl : defaultApiBaseUrl(location);
  const label = `${location.owner}/${location.repo}`;
  const source = new GitHubSource({
    owner: location.owner,
    repo: location.repo,
    ...(ref === undefined ? {} : { ref }),
    baseUrl,
    credentials: token ? tokenCredentials(token, 'cli') : anonymousCredentials(),
    limits: defaultSourceLimits,
    gate: new InMemoryRateLimitGate(systemClock),
    breakers: createBreakerRegistry(),
    budgetMs: 15_000,
    requestTimeoutMs: 10_000,
  });
  try {
    const outcome = await source.fetch();
    if (outcome.kind !== 'snapshot') throw new Error('unexpected not-modified answer');
    const parsed = parseSnapshot(outcome.snapshot);
    return {
      repo: parsed.repo,
      label,
      ref: ref ?? null,
      error: parsed.repo === null ? `commit ${outcome.snapshot.commit.slice(0, 7)} is invalid: ${describeProblems(parsed.problems)}` : '',
      problems: parsed.problems,
    };
  } catch (error) {
    return { repo: null, label, ref: ref ?? null, error: (error as Error).message, problems: [] };
  }
}

async function isDirectory(cwd: string, spec: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  try {
    return (await stat(resolve(cwd, spec))).isDirectory();
  } catch {
    return false;
  }
}

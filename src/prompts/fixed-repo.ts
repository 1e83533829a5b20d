import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadLocalRepo } from './bundled.ts';
import type { ParsedRepo } from './parsed.ts';
import { renderResolved, resolveFromBundled, routeInRepo, type PromptResolver, type Reason } from './resolver.ts';
import { describeProblems } from './snapshot-cache.ts';
import { parseSnapshot } from './snapshot.ts';
import { createBreakerRegistry } from './sources/breaker-registry.ts';
import { anonymousCredentials, tokenCredentials } from './sources/credentials.ts';
import { GitHubSource } from './sources/github-source.ts';
import { InMemoryRateLimitGate } from './sources/rate-limit-gate.ts';
import { defaultApiBaseUrl, parseRepoUrl } from './sources/repo-url.ts';
import { defaultSourceLimits } from './sources/source.ts';
import type { Problem, PromptContext, ResolvedPrompt } from './types.ts';
import { systemClock } from '../resilience/clock.ts';
import { messageOf } from '../log/error-message.ts';

/**
 * A prompt repository named on the command line (`prompts resolve --repo`,
 * `summarize --prompts`): a folder, or a GitHub repository read once. It
 * plays the part of a guild's repo (level 1) in front of the bundled prompts.
 */
export interface FixedRepo {
  repo: ParsedRepo | null;
  label: string;
  ref: string | null;
  /** Why the repo cannot be used, when `repo` is null. */
  error: string;
  problems: Problem[];
}

export class RepoSpecError extends Error {
  override readonly name = 'RepoSpecError';
}

interface LoadFixedRepoOptions {
  cwd: string;
  ref?: string;
  /** REST root for github.com repositories (GITHUB_API_URL). */
  apiUrl: string;
  /** For private repositories (GITHUB_TOKEN). */
  token?: string;
}

export async function loadFixedRepo(spec: string, options: LoadFixedRepoOptions): Promise<FixedRepo> {
  const remote = /^https?:\/\//.test(spec) || (/^[\w.-]+\/[\w.-]+$/.test(spec) && !(await isDirectory(resolve(options.cwd, spec))));
  if (!remote) {
    const local = await loadLocalRepo(resolve(options.cwd, spec));
    return {
      repo: local.repo,
      label: spec,
      ref: null,
      error: local.repo === null ? `invalid: ${describeProblems(local.problems)}` : '',
      problems: local.problems,
    };
  }
  const location = parseRepoUrl(spec);
  if (!location.ok) throw new RepoSpecError(location.message);
  const label = `${location.owner}/${location.repo}`;
  const source = new GitHubSource({
    owner: location.owner,
    repo: location.repo,
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    baseUrl: location.host === 'github.com' ? options.apiUrl : defaultApiBaseUrl(location),
    credentials: options.token ? tokenCredentials(options.token, 'cli') : anonymousCredentials(),
    limits: defaultSourceLimits,
    gate: new InMemoryRateLimitGate(systemClock),
    breakers: createBreakerRegistry(),
    // A person is waiting at a terminal: allow more than the bot's per-request budget.
    budgetMs: 15_000,
    requestTimeoutMs: 10_000,
  });
  try {
    const outcome = await source.fetch();
    if (outcome.kind !== 'snapshot') throw new Error('GitHub answered "not modified" to a first request');
    const parsed = parseSnapshot(outcome.snapshot);
    return {
      repo: parsed.repo,
      label,
      ref: options.ref ?? null,
      error: parsed.repo === null ? `commit ${outcome.snapshot.commit.slice(0, 7)} is invalid: ${describeProblems(parsed.problems)}` : '',
      problems: parsed.problems,
    };
  } catch (error) {
    return { repo: null, label, ref: options.ref ?? null, error: messageOf(error), problems: [] };
  }
}

/** Level 1 from the fixed repo, then the bundled prompts and the compiled-in fallback. */
export function resolveWithFixedRepo(fixed: FixedRepo, bundled: ParsedRepo | null, context: PromptContext): ResolvedPrompt {
  const tried: string[] = [];
  const reasons: Reason[] = [];
  if (fixed.repo !== null) {
    const found = routeInRepo(fixed.repo, context, tried);
    if ('prompt' in found) {
      return renderResolved('custom', found.prompt, fixed.repo, context, {
        repo: fixed.label,
        ref: fixed.ref,
        tried,
        reasons,
        staleAgeMs: null,
        warnings: [],
      });
    }
    reasons.push({ level: 'custom', reason: `${fixed.label}: ${found.reason}` });
  } else {
    reasons.push({ level: 'custom', reason: `${fixed.label}: ${fixed.error}` });
  }
  return resolveFromBundled(bundled, context, tried, reasons);
}

export function fixedRepoResolver(fixed: FixedRepo, bundled: ParsedRepo | null): PromptResolver {
  return { resolve: async (_guildId, context) => resolveWithFixedRepo(fixed, bundled, context) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

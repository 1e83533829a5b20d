import { describeOutcome } from './outcome-text.ts';
import { headOf, isSuccess, type RefreshOutcome } from './refresh-outcome.ts';
import type { CacheTarget, RefreshResult } from './snapshot-cache.ts';
import type { Problem } from './types.ts';

/** What an admin sees after `/prompt-config set` or `prompts resolve`: the repo as the engine reads it. */
export interface RepositoryReport {
  ok: boolean;
  repo: string;
  branch: string;
  commit: string | null;
  format: string | null;
  version: string | null;
  routes: Array<{ name: string; pattern: string }>;
  files: string[];
  problems: Problem[];
  /** Set when the refresh did not succeed: the admin's one line about it. */
  error?: string;
  /** What the refresh actually did. */
  outcome: RefreshOutcome;
  /** `outcome` in the admin's words (see describeOutcome). */
  summary: string;
}

/** A refresh in the admin's terms: what serves after it, and what happened. */
export function reportFrom(target: CacheTarget, result: RefreshResult): RepositoryReport {
  const { entry, outcome } = result;
  // What serves after this refresh: the new or confirmed commit, or the stale
  // copy a GitHub failure leaves in place; never a denied or invalid one.
  const served = isSuccess(outcome) || (outcome.kind === 'failed' && outcome.serving !== null) ? (entry?.parsed ?? null) : null;
  const ok = isSuccess(outcome) && served !== null;
  const problems = outcome.kind === 'invalid' ? outcome.problems : served !== null ? (entry?.problems ?? []) : [];
  const commit = outcome.kind === 'failed' ? (outcome.serving?.commit ?? null) : headOf(outcome);
  const summary = describeOutcome(outcome, `${target.owner}/${target.repo}`);
  return {
    ok,
    repo: `${target.owner}/${target.repo}`,
    branch: target.ref,
    commit,
    format: served?.routing.format ?? null,
    version: served?.routing.version ?? null,
    routes: served?.routing.routes.map((r) => ({ name: r.name, pattern: r.template.source })) ?? [],
    files: served === null ? [] : [...served.prompts.keys()].sort(),
    problems,
    outcome,
    summary,
    ...(ok ? {} : { error: summary }),
  };
}

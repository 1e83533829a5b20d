import { formatProblem } from './problems.ts';
import type { RefreshOutcome, ServedCopy } from './refresh-outcome.ts';

/**
 * One line for an admin saying what a refresh did and what serves now, e.g.
 * "GitHub answered 503; still serving acme/prompts@abc1234 from a cached
 * copy 2 h old". Plain text (no markup), so every surface (Discord replies,
 * status, sync records, logs, notices) can use it as is.
 */
interface OutcomeTextOptions {
  /** Wraps commit ids (Discord: inline code); default as is. */
  code?: (text: string) => string;
  /**
   * false: leave out what serves now (a `set` that was not saved changes
   * nothing that serves).
   */
  serving?: boolean;
}

export function describeOutcome(outcome: RefreshOutcome, repo: string, options: OutcomeTextOptions = {}): string {
  const code = options.code ?? ((text: string) => text);
  const short = (sha: string): string => code(sha.slice(0, 7));
  const atCommit = (copy: ServedCopy): string => code(`${repo}@${copy.commit.slice(0, 7)}`);
  const tellServing = options.serving !== false;
  switch (outcome.kind) {
    case 'changed':
      return outcome.previous === null
        ? `Read ${repo} at commit ${short(outcome.commit)}.`
        : `New commit ${short(outcome.commit)} (was ${short(outcome.previous)}).`;
    case 'unchanged':
      return `Unchanged: GitHub confirmed commit ${short(outcome.commit)} is still the newest.`;
    case 'denied': {
      const line = `GitHub answered ${outcome.status} for ${repo}: ${whyDenied(outcome.status)}.${outcome.advice === undefined ? '' : ` ${outcome.advice}`}`;
      if (!tellServing) return line;
      const kept =
        outcome.kept === null
          ? ''
          : ` The last snapshot (${short(outcome.kept.commit)}) is kept for a while and serves again at once if access returns.`;
      return `${line} The bundled prompts serve instead.${kept}`;
    }
    case 'failed': {
      const what = outcome.status !== null ? `GitHub answered ${outcome.status}` : failureWords(outcome.reason);
      if (!tellServing) return `${what} for ${repo}; try again later.`;
      if (outcome.serving !== null) return `${what}; still serving ${atCommit(outcome.serving)} from a cached copy ${age(outcome.serving)} old.`;
      if (outcome.expired !== null) {
        return `${what}; the cached copy ${atCommit(outcome.expired)} is ${age(outcome.expired)} old, past the maximum age, so the bundled prompts serve.`;
      }
      return `${what}; no copy of ${repo} is held, so the bundled prompts serve.`;
    }
    case 'invalid': {
      const errors = outcome.problems.filter((p) => p.severity === 'error');
      const first = errors[0] === undefined ? 'it does not pass validation' : formatProblem(errors[0]);
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      if (!tellServing) return `Commit ${short(outcome.commit)} is invalid: ${first}${more}.`;
      const serving =
        outcome.serving === null
          ? 'no valid commit is held, so the bundled prompts serve'
          : `still serving the last valid commit ${short(outcome.serving.commit)}`;
      return `Commit ${short(outcome.commit)} is invalid: ${first}${more}; ${serving}.`;
    }
  }
}

/** The problems and failure of an outcome as lines for a sync record (empty on success). */
export function outcomeErrors(outcome: RefreshOutcome, repo: string, max = 20): string[] {
  if (outcome.kind === 'changed' || outcome.kind === 'unchanged') return [];
  const lines = [describeOutcome(outcome, repo)];
  if (outcome.kind === 'invalid') for (const p of outcome.problems.filter((x) => x.severity === 'error')) lines.push(formatProblem(p));
  else lines.push(outcome.message);
  return lines.slice(0, max);
}

function whyDenied(status: 404 | 401 | 403): string {
  switch (status) {
    case 404:
      return 'the repository or branch is gone, or these credentials cannot see it';
    case 401:
      return 'the credentials are invalid, expired or revoked';
    case 403:
      return 'these credentials may not read it';
  }
}

function failureWords(reason: string): string {
  switch (reason) {
    case 'timeout':
      return 'GitHub did not answer in time';
    case 'network':
      return 'GitHub could not be reached';
    case 'rate-limited':
      return "GitHub's rate limit for these credentials is used up";
    case 'circuit-open':
      return 'GitHub is failing, so it is not asked for a while';
    case 'too-large':
      return 'the repository is larger than the allowed limits';
    case 'invalid-archive':
      return 'GitHub sent an unreadable archive';
    case 'aborted':
      return 'the refresh was cancelled';
    default:
      return 'the refresh failed';
  }
}

/** "40 s", "12 min", "2 h", "8 days". */
export function age(copy: Pick<ServedCopy, 'ageMs'>): string {
  const seconds = Math.max(0, Math.round(copy.ageMs / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

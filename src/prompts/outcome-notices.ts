/**
 * The admin notices a refresh's outcome calls for, by comparing it with what
 * each guild's sync record said before: a new head that fails validation
 * (the commit and every problem at `file:line`, linked to the file at that
 * line on GitHub), a repository that became unreachable (404, 401, 403),
 * and one that came back. Pure: the engine posts what this returns.
 */
import type { AdminNotice } from '../notices/admin-notice.ts';
import { formatProblem, REPOSITORY_FILE, sortProblems } from './problems.ts';
import type { PromptConfig } from './prompt-config-store.ts';
import { isSuccess, type RefreshOutcome } from './refresh-outcome.ts';
import type { Problem } from './types.ts';

/** Problems listed in one notice; the rest are counted. */
const MAX_PROBLEMS = 20;

export function outcomeNotices(configs: readonly PromptConfig[], outcome: RefreshOutcome): AdminNotice[] {
  const notices: AdminNotice[] = [];
  for (const config of configs) {
    const back = backNotice(config, outcome);
    if (back !== undefined) notices.push(back);
    const notice = noticeFor(config, outcome);
    if (notice !== undefined) notices.push(notice);
  }
  return notices;
}

/** GitHub answers again after a denial: the repository is back, whether or not its head is valid. */
function backNotice(config: PromptConfig, outcome: RefreshOutcome): AdminNotice | undefined {
  if (config.lastSyncStatus !== 'denied' || !(isSuccess(outcome) || outcome.kind === 'invalid')) return undefined;
  const repo = `${config.owner}/${config.repo}`;
  return {
    guildId: config.guildId,
    kind: 'prompt-repo-back',
    cause: `prompt-repo:${repo}:back`,
    title: `The prompt repository ${repo} is reachable again`,
    lines: [isSuccess(outcome) ? `Serving commit ${outcome.commit.slice(0, 7)}.` : `Its newest commit, ${outcome.commit.slice(0, 7)}, fails validation (see the next notice).`],
    link: `${config.repoUrl}/commit/${outcome.commit}`,
  };
}

function noticeFor(config: PromptConfig, outcome: RefreshOutcome): AdminNotice | undefined {
  const repo = `${config.owner}/${config.repo}`;
  const before = config.lastSyncStatus;
  if (outcome.kind === 'invalid') {
    if (before === 'invalid' && config.lastSyncCommit === outcome.commit) return undefined;
    const problems = sortProblems(outcome.problems);
    const shown = problems.slice(0, MAX_PROBLEMS).map((p) => problemLine(config, outcome.commit, p));
    if (problems.length > MAX_PROBLEMS) shown.push(`…and ${problems.length - MAX_PROBLEMS} more problems`);
    return {
      guildId: config.guildId,
      kind: 'prompt-push-invalid',
      cause: `prompt-invalid:${repo}@${outcome.commit}`,
      title: `Commit ${outcome.commit.slice(0, 7)} of ${repo} (${config.branch}) failed validation`,
      lines: [
        `Commit: ${outcome.commit}`,
        outcome.serving === null ? 'Serving the bundled prompts until a valid commit arrives.' : `Still serving the last valid commit, ${outcome.serving.commit.slice(0, 7)}.`,
        ...shown,
      ],
      link: `${config.repoUrl}/commit/${outcome.commit}`,
    };
  }
  if (outcome.kind === 'denied') {
    if (before === 'denied') return undefined;
    return {
      guildId: config.guildId,
      kind: 'prompt-repo-unreachable',
      cause: `prompt-repo:${repo}:unreachable`,
      title: `The prompt repository ${repo} is unreachable (GitHub answered ${outcome.status})`,
      lines: [
        outcome.message,
        ...(outcome.advice === undefined || outcome.message.includes(outcome.advice) ? [] : [outcome.advice]),
        outcome.kept === null ? 'Summaries use the bundled prompts meanwhile.' : `The last copy (${outcome.kept.commit.slice(0, 7)}) is kept but not served under this access.`,
      ],
      link: config.repoUrl,
    };
  }
  return undefined;
}

/** `file:line:col: message` and a link to the file at that line at the failing commit. */
function problemLine(config: PromptConfig, commit: string, problem: Problem): string {
  const text = formatProblem(problem);
  if (problem.file === REPOSITORY_FILE || problem.file === '') return text;
  const path = problem.file.split('/').map(encodeURIComponent).join('/');
  const anchor = problem.line === undefined ? '' : `#L${problem.line}`;
  return `${text} ${config.repoUrl}/blob/${commit}/${path}${anchor}`;
}

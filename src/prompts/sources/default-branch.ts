import type { Octokit } from 'octokit';
import type { GitHubCredentials } from './credentials.ts';
import { isHttpFailure, type RequestCounter } from './github-http.ts';

interface DefaultBranchLookup {
  octokit: Octokit;
  /** The same credentials that will read the repository: another view could name another branch, or leak that a private repository exists. */
  credentials: GitHubCredentials;
  owner: string;
  repo: string;
  timeoutMs: number;
  onRequest?: RequestCounter;
}

/** `GET /repos/{owner}/{repo}` → `default_branch`; undefined when GitHub does not show it (the caller picks a fallback). */
async function lookupDefaultBranch(lookup: DefaultBranchLookup): Promise<string | undefined> {
  const signal = AbortSignal.timeout(lookup.timeoutMs);
  try {
    const authorization = await lookup.credentials.getAuthHeader(signal);
    const { data } = await lookup.octokit.request('GET /repos/{owner}/{repo}', {
      owner: lookup.owner,
      repo: lookup.repo,
      headers: authorization === undefined ? {} : { authorization },
      request: { signal },
    });
    const branch: unknown = data.default_branch;
    return typeof branch === 'string' && branch !== '' ? branch : undefined;
  } catch (error) {
    if (isHttpFailure(error)) lookup.onRequest?.(error.status, 'GET /repos/{owner}/{repo}');
    return undefined;
  }
}

/** Where a guild's repository lives and whether the guild stored a token: what picks its credentials. */
export interface DefaultBranchQuery {
  apiBaseUrl: string;
  owner: string;
  repo: string;
  guildId: string;
  hasToken: boolean;
}

/** The default-branch look-up of a guild's repository, asked with the credentials that will read it. */
export function createDefaultBranchLookup(deps: {
  octokitFor(baseUrl: string): Octokit;
  credentialsFor(input: DefaultBranchQuery): Promise<GitHubCredentials>;
  timeoutMs: number;
  onRequest?: RequestCounter;
}): (query: DefaultBranchQuery) => Promise<string | undefined> {
  return async (query) =>
    lookupDefaultBranch({
      octokit: deps.octokitFor(query.apiBaseUrl),
      credentials: await deps.credentialsFor(query),
      owner: query.owner,
      repo: query.repo,
      timeoutMs: deps.timeoutMs,
      ...(deps.onRequest === undefined ? {} : { onRequest: deps.onRequest }),
    });
}

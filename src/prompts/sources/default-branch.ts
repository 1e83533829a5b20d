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
export async function lookupDefaultBranch(lookup: DefaultBranchLookup): Promise<string | undefined> {
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

import type { Octokit } from 'octokit';
import type { Config } from '../../config/env.ts';
import type { Logger } from '../../log/logger.ts';
import type { Clock } from '../../resilience/clock.ts';
import { GitHubAppAuth } from './github-app-auth.ts';
import { createGitHubClient, type GitHubLog } from './github-http.ts';

/** Every request to GitHub, by status (for `recap_github_requests_total`). */
export type GitHubRequestCounter = (status: number | 'network' | 'timeout') => void;

/** The process's ways into GitHub: one Octokit per API root, and the App's authentication when one is configured. */
export interface GitHubClients {
  octokitFor(baseUrl: string): Octokit;
  appAuth: GitHubAppAuth | undefined;
  onRequest: GitHubRequestCounter;
  /** Octokit's own warnings and errors, into the app's log. */
  log: GitHubLog;
}

export function createGitHubClients(deps: {
  github: Pick<Config['github'], 'app' | 'apiUrl' | 'requestTimeoutMs'>;
  clock: Clock;
  logger: Logger;
  onRequest: GitHubRequestCounter;
}): GitHubClients {
  const { github, clock, logger, onRequest } = deps;
  const log: GitHubLog = {
    warn: (message: string) => logger.warn({ source: 'octokit' }, message),
    error: (message: string) => logger.error({ source: 'octokit' }, message),
  };
  const clients = new Map<string, Octokit>();
  const octokitFor = (baseUrl: string): Octokit => {
    let client = clients.get(baseUrl);
    if (client === undefined) {
      client = createGitHubClient({ baseUrl, log });
      clients.set(baseUrl, client);
    }
    return client;
  };
  const appAuth =
    github.app === undefined
      ? undefined
      : new GitHubAppAuth({
          appId: github.app.id,
          privateKey: github.app.privateKey.reveal(),
          baseUrl: github.apiUrl,
          clock,
          requestTimeoutMs: github.requestTimeoutMs,
          onRequest,
          log,
        });
  return { octokitFor, appAuth, onRequest, log };
}

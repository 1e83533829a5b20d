import type { GitHubCredentials } from './credentials.ts';
import type { GitHubAppAuth } from './github-app-auth.ts';
import { SourceError } from './source.ts';

/** The installation ids linked to a guild (InstallationLinkStore). */
export interface LinkedInstallations {
  installationsOf(guildId: string): Promise<ReadonlySet<number>>;
}

interface LinkedAppCredentialsInput {
  app: GitHubAppAuth;
  links: LinkedInstallations;
  guildId: string;
  owner: string;
  repo: string;
}

/** Shown when a repository cannot be read for a guild that uses the App. */
export const LINK_HINT =
  'If it is private, an admin of the GitHub account that owns it must link the GitHub App installation that covers it to this server (`/prompt-config github-app`), or store a token with `/prompt-config token`.';

/**
 * A guild's view of a repository when the bot runs as a GitHub App: the
 * token of the installation that covers the repository, only when that
 * installation is linked to this guild; otherwise anonymous, exactly as
 * without the App (public repositories read, private ones 404).
 *
 * Decided on each request for an Authorization header, inside the caller's
 * budget: a link made or removed counts from the next refresh on. The
 * scope is the guild's own, so snapshots read through the App are never
 * served to another guild. The 404 advice is the same whether or not the
 * App is installed on the repository, so a guild learns nothing about
 * repositories it cannot read.
 */
export function linkedAppCredentials(input: LinkedAppCredentialsInput): GitHubCredentials {
  const { app, links, guildId, owner, repo } = input;
  return {
    scope: `${app.scope}/guild:${guildId}`,
    notFoundHint: LINK_HINT,
    async getAuthHeader(signal?: AbortSignal): Promise<string | undefined> {
      let linked: ReadonlySet<number>;
      try {
        linked = await links.installationsOf(guildId);
      } catch {
        throw new SourceError('server', 'The bot could not check which GitHub App installations this server linked (database unavailable); it tries again later.');
      }
      // A guild that linked nothing costs GitHub nothing extra.
      if (linked.size === 0) return undefined;
      const installation = await app.findInstallation(owner, repo, signal);
      if (installation === undefined || !linked.has(installation)) return undefined;
      return app.installationHeader(installation, `${owner}/${repo}`);
    },
  };
}

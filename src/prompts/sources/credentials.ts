/**
 * How a GitHub source authenticates, chosen by the caller per repository.
 * `scope` names whose view of GitHub the answers reflect: caches key private
 * snapshots by it so one guild's token never serves another guild, and rate
 * limits are tracked per scope because GitHub counts them per credential.
 */
export interface GitHubCredentials {
  /** `public` for anonymous access, e.g. `guild:123` for a guild's token, `app:42` for a GitHub App. */
  readonly scope: string;
  /** The `Authorization` header value, or undefined for anonymous requests. */
  getAuthHeader(signal?: AbortSignal): Promise<string | undefined>;
  /** What to tell an admin when GitHub cannot show the repository with these credentials (replaces the generic advice). */
  readonly notFoundHint?: string;
}

/** No credentials: public repositories only, 60 requests an hour per IP on github.com. */
export function anonymousCredentials(): GitHubCredentials {
  return { scope: 'public', getAuthHeader: async () => undefined };
}

/**
 * A personal access or fine-grained token, sent as `token <x>`. The token
 * stays inside the closure: it is not a property, so it cannot leak through
 * logging or serializing the object.
 */
export function tokenCredentials(token: string, scope: string): GitHubCredentials {
  if (token.trim() === '' || /[\r\n]/.test(token)) throw new Error('tokenCredentials: the token is empty or contains a line break');
  if (scope === 'public') throw new Error('tokenCredentials: a token needs its own scope, not "public"');
  const header = `token ${token.trim()}`;
  return { scope, getAuthHeader: async () => header };
}

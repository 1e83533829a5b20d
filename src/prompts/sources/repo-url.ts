/** Where a repository lives, as an admin named it. */
interface RepoLocation {
  /** `github.com`, or the GitHub Enterprise host (with port when one was given). */
  host: string;
  /** Web origin, e.g. `https://github.com` or `http://ghe.example:8080`. */
  origin: string;
  owner: string;
  repo: string;
}

type ParseRepoResult = ({ ok: true } & RepoLocation) | { ok: false; message: string };

const githubHosts = new Set(['github.com', 'www.github.com']);
// GitHub logins: letters, digits, single hyphens. Enterprise instances
// synced from LDAP may also carry underscores.
const ownerPattern = /^[A-Za-z0-9](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9_])){0,38}$/;
const repoPattern = /^[A-Za-z0-9._-]{1,100}$/;
const maxInputLength = 300;

const usage = 'Give the repository as owner/name or https://github.com/owner/name.';

/**
 * Reads a repository reference an admin typed: `owner/name`,
 * `https://github.com/owner/name`, with or without `.git` and trailing
 * slashes, or an `http(s)://` GitHub Enterprise address (the host is kept).
 * Anything else is refused with a message saying what to change. Messages
 * never repeat credentials embedded in the input.
 */
export function parseRepoUrl(input: string): ParseRepoResult {
  const text = input.trim();
  if (text === '') return fail(`The repository is empty. ${usage}`);
  if (text.length > maxInputLength) return fail(`The repository reference is longer than ${maxInputLength} characters. ${usage}`);
  if (/\s/.test(text)) return fail(`The repository reference contains spaces. ${usage}`);

  if (/^[\w.-]+@[\w.-]+:/.test(text)) {
    return fail(`SSH addresses (user@host:owner/name) are not supported. ${usage}`);
  }

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme === null) {
    if (text.includes(':')) return fail(`That is not a repository reference. ${usage}`);
    return fromPath('github.com', 'https://github.com', text.split('/'));
  }

  const protocol = (scheme[1] as string).toLowerCase();
  if (protocol !== 'https' && protocol !== 'http') {
    return fail(`Only https:// (or http:// for GitHub Enterprise) addresses are supported, not ${protocol}://. ${usage}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`That address cannot be read as a URL. ${usage}`);
  }
  if (url.username !== '' || url.password !== '') {
    return fail('The address contains a user name or token. Remove it: tokens are entered separately and stored encrypted.');
  }
  const host = url.host.toLowerCase();
  if (githubHosts.has(host)) {
    // github.com only serves https; an http:// link to it means the same repository.
    return fromPath('github.com', 'https://github.com', url.pathname.split('/'));
  }
  if (host === 'api.github.com') {
    return fail(`That is an API address. ${usage}`);
  }
  return fromPath(host, `${protocol}://${host}`, url.pathname.split('/'));
}

function fromPath(host: string, origin: string, rawSegments: string[]): ParseRepoResult {
  const segments = rawSegments.filter((segment) => segment !== '');
  if (segments.length < 2) return fail(`The repository needs both an owner and a name. ${usage}`);
  if (segments.length > 2) {
    const extra = segments.slice(2).join('/');
    const hint = /^(tree|blob)\//.test(extra) ? ' To use a branch, give it in the branch option.' : '';
    return fail(`The address has more than owner/name (extra part: "${truncate(extra)}").${hint} ${usage}`);
  }
  const owner = segments[0] as string;
  const repo = (segments[1] as string).replace(/\.git$/i, '');
  if (!ownerPattern.test(owner)) {
    return fail(`"${truncate(owner)}" is not a valid owner: use letters, digits and single hyphens (at most 39 characters).`);
  }
  if (!repoPattern.test(repo) || repo === '.' || repo === '..') {
    return fail(`"${truncate(repo)}" is not a valid repository name: use letters, digits, ".", "-" and "_" (at most 100 characters).`);
  }
  return { ok: true, host, origin, owner, repo };
}

/**
 * A case-insensitive identity for a repository, as GitHub treats names:
 * `owner/name` on github.com, `host/owner/name` elsewhere. Use it for maps,
 * breakers and cache keys so that `Owner/Repo` and `owner/repo` meet.
 */
export function repoKey(location: { host?: string; owner: string; repo: string }): string {
  const name = `${location.owner}/${location.repo}`.toLowerCase();
  const host = location.host?.toLowerCase();
  return host === undefined || githubHosts.has(host) ? name : `${host}/${name}`;
}

/** The REST API root for a repository's host: api.github.com, or `/api/v3` on Enterprise. */
export function defaultApiBaseUrl(location: Pick<RepoLocation, 'host' | 'origin'>): string {
  return githubHosts.has(location.host) ? 'https://api.github.com' : `${location.origin}/api/v3`;
}

function fail(message: string): ParseRepoResult {
  return { ok: false, message };
}

/** Shortens echoed input, and never echoes something shaped like a GitHub token. */
function truncate(text: string): string {
  if (/gh[pousr]_|github_pat_/i.test(text)) return '(hidden: it looks like a token)';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

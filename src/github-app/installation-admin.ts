import type { Octokit } from 'octokit';
import type { Secret } from '../config/secret.ts';
import { isHttpFailure, isTimeoutError, type RequestCounter } from '../prompts/sources/github-http.ts';

/**
 * Proves, through GitHub, that whoever completed an install link may
 * administer the installation it names. The `installation_id` GitHub puts
 * on the setup URL proves nothing (anyone can type one); the authorization
 * `code` does: it becomes a user access token, and GitHub answers with that
 * token which installations the user can reach and what their role is.
 */

interface InstallationAdminDeps {
  /** A client for GitHub's REST root (GITHUB_API_URL); tokens are passed per request. */
  octokit: Octokit;
  /** GitHub's web host, where the code is exchanged (https://github.com). */
  webUrl: string;
  appId: number;
  clientId: string;
  clientSecret: Secret;
  /** One exchange with GitHub. */
  requestTimeoutMs: number;
  onRequest?: RequestCounter;
}

export interface VerifiedInstallation {
  installationId: number;
  accountLogin: string;
  accountType: 'User' | 'Organization';
  /** The GitHub user who authorized, an admin of the account. */
  githubLogin: string;
}

export type AdminCheck = { ok: true; installation: VerifiedInstallation } | { ok: false; status: number; reason: string };

/** `/user/installations` pages read at most (100 each): a user with more is not a case to serve. */
const MAX_INSTALLATION_PAGES = 10;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export async function verifyInstallationAdmin(deps: InstallationAdminDeps, code: string, installationId: number): Promise<AdminCheck> {
  try {
    const token = await exchangeCode(deps, code);
    const auth = { authorization: `token ${token}` };
    const user = await getUser(deps, auth);
    const installation = await findInstallation(deps, auth, installationId, user.login);
    if (installation.accountType === 'User') {
      if (installation.accountId !== user.id) {
        throw new Refusal(403, `Installation ${installationId} belongs to the GitHub account ${installation.accountLogin}, not to ${user.login}: only the account's owner can link it.`);
      }
    } else {
      const role = await orgRole(deps, auth, installation.accountLogin);
      if (role !== 'admin') {
        throw new Refusal(403, `${user.login} is not an owner of the GitHub organization ${installation.accountLogin}: only an owner can link its installation to a Discord server.`);
      }
    }
    return { ok: true, installation: { installationId, accountLogin: installation.accountLogin, accountType: installation.accountType, githubLogin: user.login } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, status: error.status, reason: error.reason };
    if (isTimeoutError(error)) return { ok: false, status: 504, reason: 'GitHub did not answer in time; run `/prompt-config github-app` again for a new link.' };
    if (isHttpFailure(error) && error.status >= 500) return { ok: false, status: 502, reason: `GitHub failed (${error.status}); run \`/prompt-config github-app\` again for a new link.` };
    if (isHttpFailure(error)) return { ok: false, status: 502, reason: `GitHub refused a request of the check (${error.status}); run \`/prompt-config github-app\` again for a new link.` };
    return { ok: false, status: 502, reason: 'GitHub could not be reached to check the installation; run `/prompt-config github-app` again for a new link.' };
  }
}

async function exchangeCode(deps: InstallationAdminDeps, code: string): Promise<string> {
  const response = await call(deps, 'POST /login/oauth/access_token', (signal) =>
    deps.octokit.request('POST /login/oauth/access_token', {
      baseUrl: deps.webUrl,
      headers: { accept: 'application/json' },
      client_id: deps.clientId,
      client_secret: deps.clientSecret.reveal(),
      code,
      request: { signal },
    }),
  );
  const data = response.data as Record<string, unknown>;
  if (typeof data.error === 'string') {
    if (data.error === 'bad_verification_code') throw new Refusal(400, 'GitHub did not accept the authorization code (it is used once and expires after 10 minutes): run `/prompt-config github-app` again.');
    if (data.error === 'incorrect_client_credentials') throw new Refusal(502, 'GitHub refused the App\'s client credentials: the bot\'s operator must check GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET.');
    throw new Refusal(400, 'GitHub did not give the App a user authorization; run `/prompt-config github-app` again.');
  }
  if (typeof data.access_token !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(data.access_token)) {
    throw new Refusal(502, 'GitHub answered the authorization with something unreadable.');
  }
  return data.access_token;
}

async function getUser(deps: InstallationAdminDeps, auth: Record<string, string>): Promise<{ id: number; login: string }> {
  const { data } = await call(deps, 'GET /user', (signal) => deps.octokit.request('GET /user', { headers: auth, request: { signal } }));
  const { id, login } = data as { id?: unknown; login?: unknown };
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof login !== 'string' || !LOGIN.test(login)) {
    throw new Refusal(502, 'GitHub answered an unreadable user.');
  }
  return { id, login };
}

interface ReachableInstallation {
  accountId: number;
  accountLogin: string;
  accountType: 'User' | 'Organization';
}

async function findInstallation(deps: InstallationAdminDeps, auth: Record<string, string>, installationId: number, login: string): Promise<ReachableInstallation> {
  for (let page = 1; page <= MAX_INSTALLATION_PAGES; page += 1) {
    const response = await call(deps, 'GET /user/installations', (signal) =>
      deps.octokit.request('GET /user/installations', { per_page: 100, page, headers: auth, request: { signal } }),
    );
    const installations = (response.data as { installations?: unknown }).installations;
    if (!Array.isArray(installations)) throw new Refusal(502, 'GitHub answered an unreadable list of installations.');
    for (const entry of installations as unknown[]) {
      const candidate = entry as { id?: unknown; app_id?: unknown; account?: { id?: unknown; login?: unknown; type?: unknown } | null };
      if (candidate.id !== installationId) continue;
      if (candidate.app_id !== undefined && candidate.app_id !== deps.appId) continue;
      const account = candidate.account;
      if (account === null || account === undefined) break;
      if (typeof account.id !== 'number' || typeof account.login !== 'string' || !LOGIN.test(account.login)) break;
      if (account.type !== 'User' && account.type !== 'Organization') {
        throw new Refusal(403, `Installation ${installationId} is on an ${String(account.type).slice(0, 20)} account; only installations on a user or an organization can be linked.`);
      }
      return { accountId: account.id, accountLogin: account.login, accountType: account.type };
    }
    const link = String(response.headers.link ?? '');
    if (!/rel="next"/.test(link)) break;
  }
  throw new Refusal(403, `The GitHub user ${login} has no access to an installation ${installationId} of this App. Install the App from the link the bot gave you, signed in as an admin of the account you install it on.`);
}

async function orgRole(deps: InstallationAdminDeps, auth: Record<string, string>, org: string): Promise<string | undefined> {
  try {
    const { data } = await call(deps, 'GET /user/memberships/orgs/{org}', (signal) =>
      deps.octokit.request('GET /user/memberships/orgs/{org}', { org, headers: auth, request: { signal } }),
    );
    const { state, role } = data as { state?: unknown; role?: unknown };
    return state === 'active' && typeof role === 'string' ? role : undefined;
  } catch (error) {
    // Not a member, or the App may not read memberships: either way, no proof of ownership.
    if (isHttpFailure(error) && (error.status === 404 || error.status === 403)) return undefined;
    throw error;
  }
}

async function call<T>(deps: InstallationAdminDeps, route: string, send: (signal: AbortSignal) => Promise<T & { status: number }>): Promise<T> {
  try {
    const response = await send(AbortSignal.timeout(deps.requestTimeoutMs));
    deps.onRequest?.(response.status, route);
    return response;
  } catch (error) {
    deps.onRequest?.(isHttpFailure(error) ? error.status : isTimeoutError(error) ? 'timeout' : 'network', route);
    throw error;
  }
}

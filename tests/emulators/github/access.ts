import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../src/resilience/clock.ts';
import type { Repository } from './model.ts';

/** Who a request is, from its Authorization header. */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'token'; token: string }
  | { kind: 'installation'; token: string; installationId: number }
  | { kind: 'app'; appId: string }
  /** A GitHub App's user access token (`ghu_…`): acts as that user, through that App. */
  | { kind: 'user'; token: string; login: string; appId: string }
  /** A credential GitHub would refuse with 401 "Bad credentials". */
  | { kind: 'invalid'; reason: string };

export interface Installation {
  id: number;
  appId: string;
  account: string;
  /** Whose account the App is installed on: a personal account or an organization. */
  accountType: 'User' | 'Organization';
  /** The account's id: the user's own for a personal account. */
  accountId: number;
  repoIds: Set<number>;
}

export interface GitHubUser {
  id: number;
  login: string;
}

export type OrgRole = 'admin' | 'member';

/** What `POST /login/oauth/access_token` answers: a token, or GitHub's error (with a 200, as GitHub does). */
export type CodeExchange =
  | { ok: true; token: string; expiresAt: number }
  | { ok: false; error: string; description: string };

/** Installation tokens live an hour, as on GitHub. */
const installationTokenLifetimeMs = 60 * 60 * 1000;
/** User access tokens of GitHub Apps live 8 hours; authorization codes 10 minutes, once. */
const userTokenLifetimeMs = 8 * 60 * 60 * 1000;
const codeLifetimeMs = 10 * 60 * 1000;

/**
 * Tokens, GitHub App installations and who may read what. As on GitHub: an
 * unknown or expired token is refused (401) everywhere, and a private
 * repository is invisible (404) to anyone who may not read it, including
 * anonymous callers and valid tokens without access.
 */
export class AccessControl {
  private readonly plainTokens = new Set<string>();
  private readonly installations = new Map<number, Installation>();
  private readonly installationTokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly apps = new Set<string>();
  private readonly clients = new Map<string, { appId: string; secret: string }>();
  private readonly users = new Map<string, GitHubUser>();
  private readonly orgs = new Map<string, Map<string, OrgRole>>();
  private readonly codes = new Map<string, { clientId: string; login: string; expiresAt: number }>();
  private readonly userTokens = new Map<string, { login: string; appId: string; expiresAt: number }>();
  private nextInstallationId = 5000;
  private nextUserId = 7000;
  private tokensMinted = 0;

  constructor(
    private readonly clock: Clock,
    private readonly repos: () => Iterable<Repository>,
  ) {}

  /** A valid token that can read public repositories (and private ones that list it). */
  addToken(token: string): void {
    this.plainTokens.add(token);
  }

  installApp(
    appId: string | number,
    repos: Repository[],
    options: { installationId?: number; account?: string; accountType?: 'User' | 'Organization' } = {},
  ): Installation {
    const id = options.installationId ?? this.nextInstallationId++;
    const account = options.account ?? repos[0]?.owner ?? 'octo-org';
    const accountType = options.accountType ?? 'Organization';
    const installation: Installation = {
      id,
      appId: String(appId),
      account,
      accountType,
      accountId: accountType === 'User' ? this.addUser(account).id : id + 2_000_000,
      repoIds: new Set(repos.map((repo) => repo.id)),
    };
    this.apps.add(String(appId));
    this.installations.set(id, installation);
    return installation;
  }

  identify(authorization: string | undefined): Identity {
    if (authorization === undefined || authorization.trim() === '') return { kind: 'anonymous' };
    const match = /^(token|bearer)\s+(\S+)$/i.exec(authorization.trim());
    if (match === null) return { kind: 'invalid', reason: 'Bad credentials' };
    const credential = match[2] as string;
    if (credential.split('.').length === 3) {
      const jwt = readJwtShape(credential);
      if ('error' in jwt) return { kind: 'invalid', reason: jwt.error };
      if (!this.apps.has(jwt.appId)) return { kind: 'invalid', reason: 'Integration not found' };
      return { kind: 'app', appId: jwt.appId };
    }
    const userToken = this.userTokens.get(credential);
    if (userToken !== undefined) {
      if (this.clock.now() >= userToken.expiresAt) return { kind: 'invalid', reason: 'Bad credentials' };
      return { kind: 'user', token: credential, login: userToken.login, appId: userToken.appId };
    }
    const installationToken = this.installationTokens.get(credential);
    if (installationToken !== undefined) {
      if (this.clock.now() >= installationToken.expiresAt) return { kind: 'invalid', reason: 'Bad credentials' };
      return { kind: 'installation', token: credential, installationId: installationToken.installationId };
    }
    if (this.plainTokens.has(credential) || [...this.repos()].some((repo) => repo.tokens.has(credential))) {
      return { kind: 'token', token: credential };
    }
    return { kind: 'invalid', reason: 'Bad credentials' };
  }

  canRead(identity: Identity, repo: Repository): boolean {
    if (!repo.private) return identity.kind !== 'invalid';
    if (identity.kind === 'token') return repo.tokens.has(identity.token);
    if (identity.kind === 'installation') return this.installations.get(identity.installationId)?.repoIds.has(repo.id) === true;
    return false;
  }

  installationFor(appId: string, repo: Repository): Installation | undefined {
    for (const installation of this.installations.values()) {
      if (installation.appId === appId && installation.repoIds.has(repo.id)) return installation;
    }
    return undefined;
  }

  installation(id: number): Installation | undefined {
    return this.installations.get(id);
  }

  mintInstallationToken(installation: Installation): { token: string; expiresAt: number } {
    const token = `ghs_${randomBytes(18).toString('hex').slice(0, 36)}`;
    const expiresAt = this.clock.now() + installationTokenLifetimeMs;
    this.installationTokens.set(token, { installationId: installation.id, expiresAt });
    this.tokensMinted += 1;
    return { token, expiresAt };
  }

  get mintedTokens(): number {
    return this.tokensMinted;
  }

  // --- users, organizations and the web flow of GitHub Apps ---------------

  /** The App's OAuth client (Settings → Client ID, client secrets). */
  registerClient(appId: string | number, clientId: string, clientSecret: string): void {
    this.apps.add(String(appId));
    this.clients.set(clientId, { appId: String(appId), secret: clientSecret });
  }

  addUser(login: string): GitHubUser {
    const existing = this.user(login);
    if (existing !== undefined) return existing;
    const user = { id: this.nextUserId++, login };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  user(login: string): GitHubUser | undefined {
    return this.users.get(login.toLowerCase());
  }

  setOrgRole(org: string, login: string, role: OrgRole | undefined): void {
    this.addUser(login);
    let members = this.orgs.get(org.toLowerCase());
    if (members === undefined) {
      members = new Map();
      this.orgs.set(org.toLowerCase(), members);
    }
    if (role === undefined) members.delete(login.toLowerCase());
    else members.set(login.toLowerCase(), role);
  }

  orgRole(org: string, login: string): OrgRole | undefined {
    return this.orgs.get(org.toLowerCase())?.get(login.toLowerCase());
  }

  /** What github.com puts in the redirect after `login` authorized the App (install with user authorization). */
  issueCode(clientId: string, login: string): string {
    if (!this.clients.has(clientId)) throw new Error(`GitHub emulator: no App with client id ${clientId}`);
    this.addUser(login);
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, { clientId, login, expiresAt: this.clock.now() + codeLifetimeMs });
    return code;
  }

  /** `POST /login/oauth/access_token`: a code is good once, for its own client, with the right secret. */
  exchangeCode(clientId: string, clientSecret: string, code: string): CodeExchange {
    const client = this.clients.get(clientId);
    if (client === undefined || !sameSecret(client.secret, clientSecret)) {
      return { ok: false, error: 'incorrect_client_credentials', description: 'The client_id and/or client_secret passed are incorrect.' };
    }
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (grant === undefined || grant.clientId !== clientId || this.clock.now() >= grant.expiresAt) {
      return { ok: false, error: 'bad_verification_code', description: 'The code passed is incorrect or expired.' };
    }
    const token = `ghu_${randomBytes(18).toString('hex').slice(0, 36)}`;
    const expiresAt = this.clock.now() + userTokenLifetimeMs;
    this.userTokens.set(token, { login: grant.login, appId: client.appId, expiresAt });
    return { ok: true, token, expiresAt };
  }

  /** Every user access token handed out (tests check that none leaks). */
  get issuedUserTokens(): string[] {
    return [...this.userTokens.keys()];
  }

  /**
   * `GET /user/installations`: the App's installations the user can reach:
   * on their own account, or on an organization they belong to (any role,
   * as on GitHub; being listed does not make one an admin).
   */
  installationsOf(identity: Extract<Identity, { kind: 'user' }>): Installation[] {
    return [...this.installations.values()]
      .filter((installation) => installation.appId === identity.appId)
      .filter((installation) =>
        installation.accountType === 'User'
          ? installation.account.toLowerCase() === identity.login.toLowerCase()
          : this.orgRole(installation.account, identity.login) !== undefined,
      )
      .sort((a, b) => a.id - b.id);
  }
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a GitHub App JWT's shape only (three base64url parts, RS256,
 * numeric iat/exp at most ten minutes apart, an issuer); the signature is not
 * verified, the emulator has no public key to check it with.
 */
function readJwtShape(jwt: string): { appId: string } | { error: string } {
  const [rawHeader, rawPayload, signature] = jwt.split('.') as [string, string, string];
  const base64url = /^[A-Za-z0-9_-]+$/;
  if (![rawHeader, rawPayload, signature].every((part) => base64url.test(part))) return { error: 'A JSON web token could not be decoded' };
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(rawHeader, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(rawPayload, 'base64url').toString('utf8'));
  } catch {
    return { error: 'A JSON web token could not be decoded' };
  }
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'RS256') {
    return { error: "'alg' must be RS256" };
  }
  const { iat, exp, iss } = (payload ?? {}) as { iat?: unknown; exp?: unknown; iss?: unknown };
  if (typeof iat !== 'number' || typeof exp !== 'number') {
    return { error: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued" };
  }
  if (exp <= iat || exp - iat > 660) return { error: "'Expiration time' claim ('exp') is too far in the future" };
  if (typeof iss !== 'string' && typeof iss !== 'number') return { error: "'Issuer' claim ('iss') must be an Integer" };
  return { appId: String(iss) };
}

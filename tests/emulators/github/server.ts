/**
 * A local GitHub REST emulator for tests, end-to-end runs and benchmarks.
 *
 * It answers, over real HTTP on 127.0.0.1, the endpoints the prompt sources
 * use, the way github.com does: ETags and 304s, tarball redirects to a
 * short-lived download URL serving a real `owner-repo-sha7/` gzipped tar,
 * private repositories invisible without access, GitHub App installation
 * tokens, the web flow that gives a GitHub App a user access token
 * (`POST /login/oauth/access_token`) and what that token may ask (`/user`,
 * `/user/installations`, `/user/memberships/orgs/{org}`), and rate-limit
 * headers on every API answer. Faults (latency, 5xx,
 * rate limits, hangs, dropped connections, truncated or hostile archives) are
 * injected per route, and every answer is counted per route and status.
 *
 *   const github = new GitHubEmulator();
 *   const { baseUrl, close } = await github.start();
 *   const sha = github.createRepo('acme/prompts', { files: { PATH: '...', 'prompts/default.md': '...' } });
 *   github.fault({ route: 'commit', kind: 'status', status: 503, times: 1 });
 *   github.count('commit', 304);
 *
 * Quotas are GitHub's by default (60/h anonymous, shared by every anonymous
 * caller; 5,000/h per token): benchmarks with many anonymous refreshes should
 * raise them with the `quota` option.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../src/resilience/clock.ts';
import { systemClock } from '../../../src/resilience/clock.ts';
import type { Identity, Installation } from './access.ts';
import { AccessControl } from './access.ts';
import type { RawTarEntry } from './archive.ts';
import { archiveFolder, buildTarball } from './archive.ts';
import type { EmulatorRoute, Fault, FaultAction, FaultHandle } from './faults.ts';
import { FaultSet } from './faults.ts';
import type { Changes, Commit, FileMap, Repository } from './model.ts';
import { fullName } from './model.ts';
import type { QuotaOptions } from './quota.ts';
import { QuotaBook } from './quota.ts';
import type { CreateRepoOptions } from './repo-store.ts';
import { blobSha, readTreeFromDisk, RepoStore } from './repo-store.ts';

export type { Changes, FileMap, FileSpec } from './model.ts';
export type { EmulatorRoute, Fault, FaultAction, FaultHandle } from './faults.ts';
export type { RawTarEntry } from './archive.ts';

export interface GitHubEmulatorOptions {
  /** Drives rate-limit windows, token expiry and commit dates; share a ManualClock with the code under test. */
  clock?: Clock;
  quota?: QuotaOptions;
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** How long a tarball download URL stays valid; default 5 minutes. */
  downloadTtlMs?: number;
}

export interface RunningEmulator {
  baseUrl: string;
  close(): Promise<void>;
}

export interface DirectoryRepoOptions {
  branch?: string;
  private?: boolean;
  tokens?: string[];
  /** Re-read the directory on every request and commit when it changed (for the CLI). */
  live?: boolean;
}

export interface RequestRecord {
  method: string;
  /** Path without the query (download URLs carry a token there). */
  path: string;
  route: EmulatorRoute;
  repo: string | undefined;
  status: number | 'hang' | 'reset';
  auth: Identity['kind'];
}

export interface EmulatorStats {
  total: number;
  /** Route → status (`"200"`, `"304"`, `"hang"`, `"reset"`…) → count. */
  byRoute: Partial<Record<EmulatorRoute, Record<string, number>>>;
}

interface Matched {
  route: EmulatorRoute;
  org?: string;
  owner?: string;
  repo?: string;
  rest?: string;
  installationId?: string;
}

interface DownloadGrant {
  repoId: number;
  sha: string;
  expiresAt: number;
}

const docs = 'https://docs.github.com/rest';
const maxRecords = 20_000;
const maxCachedArchives = 256;

export class GitHubEmulator {
  private readonly clock: Clock;
  private readonly store: RepoStore;
  private readonly access: AccessControl;
  private readonly quota: QuotaBook;
  private readonly faults = new FaultSet();
  private readonly downloads = new Map<string, DownloadGrant>();
  private readonly archives = new Map<string, Buffer>();
  private records: RequestRecord[] = [];
  private counts: EmulatorStats = { total: 0, byRoute: {} };
  private server: Server | undefined;
  private url: string | undefined;

  constructor(private readonly options: GitHubEmulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.store = new RepoStore(this.clock);
    this.access = new AccessControl(this.clock, () => this.store.all());
    this.quota = new QuotaBook(this.clock, options.quota);
  }

  async start(): Promise<RunningEmulator> {
    if (this.server !== undefined) throw new Error('GitHub emulator: already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ message: `emulator error: ${error instanceof Error ? error.message : String(error)}` }));
        } else {
          res.destroy();
        }
      });
    });
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.server = server;
    this.url = `http://${host}:${address.port}`;
    return { baseUrl: this.url, close: () => this.close() };
  }

  get baseUrl(): string {
    if (this.url === undefined) throw new Error('GitHub emulator: not started');
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Hung requests and idle keep-alive sockets would hold close() open.
    server.closeAllConnections();
    await closed;
  }

  // --- repositories -------------------------------------------------------

  /** Creates `owner/name`; with `files`, also its first commit (whose SHA is returned). */
  createRepo(name: string, options: CreateRepoOptions = {}): string | undefined {
    const repo = this.store.create(name, options);
    return repo.branches.get(repo.defaultBranch);
  }

  /** Serves a directory on disk as `owner/name` (symlinks kept as symlinks, `.git` left out). */
  async addDirectoryRepo(name: string, dir: string, options: DirectoryRepoOptions = {}): Promise<string> {
    const branch = options.branch ?? 'main';
    const files = await readTreeFromDisk(dir);
    const repo = this.store.create(name, {
      defaultBranch: branch,
      ...(options.private === undefined ? {} : { private: options.private }),
      ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    });
    const sha = this.store.push(name, branch, files, 'Initial commit');
    if (options.live === true) repo.liveDirectory = { dir, branch };
    return sha;
  }

  /** A new commit on `branch` (see RepoStore.push); returns its SHA. */
  push(name: string, branch: string, files: FileMap | Changes, message?: string): string {
    return this.store.push(name, branch, files, message);
  }

  /** Moves `branch` back (or anywhere) to an existing commit, like a force-push. */
  forcePush(name: string, branch: string, sha: string): void {
    this.store.forcePush(name, branch, sha);
  }

  head(name: string, branch?: string): string {
    return this.store.head(name, branch);
  }

  setDefaultBranch(name: string, branch: string): void {
    this.store.get(name).defaultBranch = branch;
  }

  setPrivate(name: string, isPrivate: boolean, tokens: string[] = []): void {
    const repo = this.store.get(name);
    repo.private = isPrivate;
    for (const token of tokens) repo.tokens.add(token);
  }

  deleteRepo(name: string): void {
    this.store.delete(name);
  }

  /** The old name answers 404 afterwards. */
  renameRepo(from: string, to: string): void {
    this.store.rename(from, to);
  }

  // --- credentials --------------------------------------------------------

  /** A valid token without access to any private repository (those 404 for it, as on GitHub). */
  addToken(token: string): void {
    this.access.addToken(token);
  }

  /**
   * Installs GitHub App `appId` on these repositories; returns the installation id.
   * `account` is the owner of the installation (default: the first repository's
   * owner), an organization unless `accountType` says `User`.
   */
  installApp(
    appId: string | number,
    repos: string[],
    options: { installationId?: number; account?: string; accountType?: 'User' | 'Organization' } = {},
  ): number {
    return this.access.installApp(appId, repos.map((name) => this.store.get(name)), options).id;
  }

  /** Gives the App an OAuth client, for the web flow (user authorization during installation). */
  registerAppClient(appId: string | number, client: { clientId: string; clientSecret: string }): void {
    this.access.registerClient(appId, client.clientId, client.clientSecret);
  }

  addUser(login: string): { id: number; login: string } {
    return { ...this.access.addUser(login) };
  }

  /** Makes `login` an organization member with this role (`undefined` removes them). */
  setOrgRole(org: string, login: string, role: 'admin' | 'member' | undefined): void {
    this.access.setOrgRole(org, login, role);
  }

  /**
   * What github.com does when `login` installs (or updates) the App with
   * "Request user authorization (OAuth) during installation": it issues an
   * authorization code and redirects the browser to the App's callback URL
   * with `code`, `installation_id`, `setup_action` and the `state` the
   * install link carried. Returns that redirect URL.
   */
  installRedirect(callbackUrl: string, options: { clientId: string; login: string; installationId: number | string; state?: string; setupAction?: 'install' | 'update' }): string {
    const url = new URL(callbackUrl);
    url.searchParams.set('code', this.access.issueCode(options.clientId, options.login));
    url.searchParams.set('installation_id', String(options.installationId));
    url.searchParams.set('setup_action', options.setupAction ?? 'install');
    if (options.state !== undefined) url.searchParams.set('state', options.state);
    return url.toString();
  }

  /**
   * What github.com does when `login` approves the App on its authorization
   * page (`/login/oauth/authorize?client_id&redirect_uri&state`): redirects
   * to `redirect_uri` (which must be on the callback URL's origin and path)
   * with a `code` and the same `state`. Returns that redirect URL.
   */
  authorizeRedirect(authorizeUrl: string, login: string, callbackUrl: string): string {
    const asked = new URL(authorizeUrl);
    if (asked.pathname !== '/login/oauth/authorize') throw new Error(`GitHub emulator: not an authorization URL: ${asked.pathname}`);
    const clientId = asked.searchParams.get('client_id') ?? '';
    const target = new URL(asked.searchParams.get('redirect_uri') ?? callbackUrl);
    const registered = new URL(callbackUrl);
    // GitHub: the redirect_uri's host and port must match the callback URL, its path be the same or below.
    if (target.origin !== registered.origin || !target.pathname.startsWith(registered.pathname)) {
      throw new Error('GitHub emulator: the redirect_uri is not associated with this application');
    }
    target.searchParams.set('code', this.access.issueCode(clientId, login));
    const state = asked.searchParams.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return target.toString();
  }

  /** User access tokens exchanged so far. */
  get userTokensIssued(): string[] {
    return this.access.issuedUserTokens;
  }

  /** An authorization code for `login`, as the plain web flow (no installation) hands out. */
  authorizationCode(clientId: string, login: string): string {
    return this.access.issueCode(clientId, login);
  }

  /** Installation tokens minted so far. */
  get installationTokensMinted(): number {
    return this.access.mintedTokens;
  }

  /** Uses up the primary quota of a token (or, without one, of anonymous callers). */
  exhaustQuota(token?: string, resetInMs?: number): void {
    const identity = this.access.identify(token === undefined ? undefined : `token ${token}`);
    this.quota.exhaust(identity, resetInMs);
  }

  // --- faults and counters ------------------------------------------------

  fault(fault: Fault): FaultHandle {
    return this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  stats(): EmulatorStats {
    return structuredClone(this.counts);
  }

  /** Answers counted for a route (all routes when omitted), optionally of one status. */
  count(route?: EmulatorRoute, status?: number | 'hang' | 'reset'): number {
    const routes = route === undefined ? Object.values(this.counts.byRoute) : [this.counts.byRoute[route] ?? {}];
    let total = 0;
    for (const byStatus of routes) {
      for (const [key, value] of Object.entries(byStatus ?? {})) {
        if (status === undefined || key === String(status)) total += value;
      }
    }
    return total;
  }

  requests(): RequestRecord[] {
    return [...this.records];
  }

  resetStats(): void {
    this.records = [];
    this.counts = { total: 0, byRoute: {} };
  }

  // --- HTTP ---------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    // GitHub Enterprise serves the API under /api/v3; accept both shapes.
    const path = url.pathname.startsWith('/api/v3/') ? url.pathname.slice('/api/v3'.length) : url.pathname;
    const matched = matchRoute(req.method ?? 'GET', path);
    const repoName = matched.owner !== undefined && matched.repo !== undefined ? `${matched.owner}/${matched.repo}` : undefined;
    const identity = this.access.identify(headerValue(req, 'authorization'));
    const api = matched.route !== 'download' && matched.route !== 'rate-limit' && matched.route !== 'oauth-token';
    const exchange = new Exchange(req, res, api, identity, this.quota, (status) =>
      this.record({ method: req.method ?? 'GET', path: url.pathname, route: matched.route, repo: repoName, status, auth: identity.kind }),
    );

    const archiveFaults: FaultAction[] = [];
    for (const fault of this.faults.take(matched.route, repoName)) {
      switch (fault.kind) {
        case 'latency':
          await new Promise((resolve) => setTimeout(resolve, fault.ms));
          break;
        case 'hang':
          exchange.hang();
          return;
        case 'reset':
          exchange.reset();
          return;
        case 'status':
          exchange.json(fault.status, { message: fault.message ?? defaultMessage(fault.status), documentation_url: docs });
          return;
        case 'rate-limit':
          this.answerRateLimit(exchange, fault);
          return;
        case 'truncate':
        case 'archive-entries':
          archiveFaults.push(fault);
          break;
      }
    }

    if (matched.route === 'download') {
      await this.download(exchange, matched, archiveFaults);
      return;
    }
    if (matched.route === 'oauth-token') {
      await this.oauthToken(exchange, url.searchParams);
      return;
    }
    if (identity.kind === 'invalid') {
      exchange.json(401, { message: identity.reason, documentation_url: docs });
      return;
    }
    if (identity.kind !== 'app' && this.quota.peek(identity).remaining <= 0) {
      exchange.json(403, { message: 'API rate limit exceeded. (But here\'s the good news: Authenticated requests get a higher rate limit.)', documentation_url: `${docs}/overview/rate-limits-for-the-rest-api` });
      return;
    }

    switch (matched.route) {
      case 'rate-limit':
        this.rateLimitStatus(exchange, identity);
        return;
      case 'access-token':
        this.accessToken(exchange, identity, matched.installationId ?? '');
        return;
      case 'user':
      case 'user-installations':
      case 'org-membership':
        this.userRoute(exchange, identity, matched, url.searchParams);
        return;
      case 'unknown':
        exchange.json(404, { message: 'Not Found', documentation_url: docs });
        return;
      default:
        break;
    }

    const repo = this.store.find(matched.owner ?? '', matched.repo ?? '');
    if (matched.route === 'installation') {
      this.installation(exchange, identity, repo);
      return;
    }
    if (repo === undefined || !this.access.canRead(identity, repo)) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/repos/repos#get-a-repository` });
      return;
    }
    if (repo.liveDirectory !== undefined) await this.store.syncFromDisk(repo);
    const origin = `http://${headerValue(req, 'host') ?? '127.0.0.1'}`;
    switch (matched.route) {
      case 'repo':
        exchange.json(200, repoJson(repo, origin));
        return;
      case 'commit':
        this.commit(exchange, repo, matched.rest ?? '', origin);
        return;
      case 'branch':
        this.branch(exchange, repo, matched.rest ?? '', origin);
        return;
      case 'tarball':
        this.tarball(exchange, repo, matched.rest ?? '', origin);
        return;
      case 'contents':
        this.contents(exchange, repo, matched.rest ?? '', url.searchParams.get('ref') ?? undefined, origin);
        return;
    }
  }

  private commit(exchange: Exchange, repo: Repository, ref: string, origin: string): void {
    const commit = ref === '' ? undefined : this.store.resolve(repo, ref);
    if (commit === undefined) {
      exchange.json(422, { message: `No commit found for SHA: ${ref}`, documentation_url: `${docs}/commits/commits#get-a-commit`, status: '422' });
      return;
    }
    if (exchange.accepts('application/vnd.github.sha')) {
      exchange.conditional(200, commit.sha, 'application/vnd.github.sha; charset=utf-8');
      return;
    }
    exchange.json(200, commitJson(repo, commit, origin));
  }

  private branch(exchange: Exchange, repo: Repository, name: string, origin: string): void {
    const sha = repo.branches.get(name);
    const commit = sha === undefined ? undefined : repo.commits.get(sha);
    if (commit === undefined) {
      exchange.json(404, { message: 'Branch not found', documentation_url: `${docs}/branches/branches#get-a-branch`, status: '404' });
      return;
    }
    const base = `${origin}/repos/${fullName(repo)}`;
    exchange.json(200, {
      name,
      commit: commitJson(repo, commit, origin),
      _links: { self: `${base}/branches/${name}`, html: `https://github.com/${fullName(repo)}/tree/${name}` },
      protected: false,
      protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
      protection_url: `${base}/branches/${name}/protection`,
    });
  }

  private tarball(exchange: Exchange, repo: Repository, ref: string, origin: string): void {
    const commit = this.store.resolve(repo, ref === '' ? 'HEAD' : ref);
    if (commit === undefined) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/repos/contents#download-a-repository-archive-tar` });
      return;
    }
    const now = this.clock.now();
    for (const [key, grant] of this.downloads) if (grant.expiresAt <= now) this.downloads.delete(key);
    const token = randomBytes(16).toString('hex');
    this.downloads.set(token, { repoId: repo.id, sha: commit.sha, expiresAt: now + (this.options.downloadTtlMs ?? 300_000) });
    const location = `${origin}/_download/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}/${commit.sha}.tar.gz?token=${token}`;
    exchange.send(302, '', { location, 'content-type': 'text/html;charset=utf-8' });
  }

  private async download(exchange: Exchange, matched: Matched, faults: FaultAction[]): Promise<void> {
    const token = new URL(exchange.req.url ?? '/', 'http://emulator').searchParams.get('token') ?? '';
    const grant = this.downloads.get(token);
    const sha = (matched.rest ?? '').replace(/\.tar\.gz$/, '');
    const repo = grant === undefined ? undefined : this.store.all().find((candidate) => candidate.id === grant.repoId);
    const commit = repo?.commits.get(sha);
    if (grant === undefined || grant.sha !== sha || grant.expiresAt <= this.clock.now() || repo === undefined || commit === undefined) {
      exchange.send(404, '404: Not Found', { 'content-type': 'text/plain; charset=utf-8' });
      return;
    }
    const extra = faults.flatMap((fault) => (fault.kind === 'archive-entries' ? fault.entries : []));
    let archive = await this.archiveOf(repo, commit, extra);
    const truncate = faults.find((fault) => fault.kind === 'truncate');
    const headers: Record<string, string> = {
      'content-type': 'application/x-gzip',
      'content-disposition': `attachment; filename=${archiveFolder(repo, commit)}.tar.gz`,
      etag: `"${commit.sha}"`,
    };
    if (truncate !== undefined) {
      archive = archive.subarray(0, Math.floor(archive.byteLength * (truncate.fraction ?? 0.5)));
      exchange.stream(200, archive, headers);
      return;
    }
    exchange.send(200, archive, { ...headers, 'content-length': String(archive.byteLength) });
  }

  private async archiveOf(repo: Repository, commit: Commit, extra: RawTarEntry[]): Promise<Buffer> {
    if (extra.length > 0) return buildTarball(repo, commit, extra);
    const key = `${repo.id}:${repo.owner}/${repo.name}:${commit.sha}`;
    const cached = this.archives.get(key);
    if (cached !== undefined) return cached;
    const archive = await buildTarball(repo, commit);
    if (this.archives.size >= maxCachedArchives) {
      const oldest = this.archives.keys().next();
      if (oldest.done !== true) this.archives.delete(oldest.value);
    }
    this.archives.set(key, archive);
    return archive;
  }

  private contents(exchange: Exchange, repo: Repository, path: string, ref: string | undefined, origin: string): void {
    const commit = this.store.resolve(repo, ref ?? 'HEAD');
    if (commit === undefined) {
      exchange.json(404, { message: `No commit found for the ref ${ref ?? ''}`, documentation_url: `${docs}/repos/contents#get-repository-content`, status: '404' });
      return;
    }
    const clean = path.replace(/^\/+|\/+$/g, '');
    const entry = clean === '' ? undefined : commit.tree.get(clean);
    const base = `${origin}/repos/${fullName(repo)}/contents`;
    if (entry !== undefined) {
      const name = clean.split('/').pop() as string;
      const common = { name, path: clean, url: `${base}/${clean}?ref=${commit.sha}`, html_url: null, download_url: null };
      if (entry.type === 'blob') {
        if (exchange.accepts('application/vnd.github.raw')) {
          exchange.conditional(200, Buffer.from(entry.content), 'application/vnd.github.raw');
          return;
        }
        const base64 = Buffer.from(entry.content).toString('base64').replace(/.{60}/g, '$&\n');
        exchange.json(200, { type: 'file', encoding: 'base64', size: entry.content.byteLength, sha: blobSha(entry.content), content: `${base64}\n`, ...common });
      } else if (entry.type === 'symlink') {
        exchange.json(200, { type: 'symlink', target: entry.target, size: entry.target.length, sha: blobSha(new TextEncoder().encode(entry.target)), ...common });
      } else {
        exchange.json(200, { type: 'submodule', submodule_git_url: entry.url, size: 0, sha: entry.commit, ...common });
      }
      return;
    }
    const prefix = clean === '' ? '' : `${clean}/`;
    const children = new Map<string, { type: string; sha: string; size: number }>();
    for (const [entryPath, value] of commit.tree) {
      if (!entryPath.startsWith(prefix)) continue;
      const rest = entryPath.slice(prefix.length);
      const slash = rest.indexOf('/');
      const child = slash === -1 ? rest : rest.slice(0, slash);
      if (slash !== -1) {
        children.set(child, { type: 'dir', sha: '0'.repeat(40), size: 0 });
      } else {
        const type = value.type === 'blob' ? 'file' : value.type === 'symlink' ? 'symlink' : 'submodule';
        const sha = value.type === 'blob' ? blobSha(value.content) : value.type === 'submodule' ? value.commit : blobSha(new TextEncoder().encode(value.target));
        children.set(child, { type, sha, size: value.type === 'blob' ? value.content.byteLength : 0 });
      }
    }
    if (children.size === 0) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/repos/contents#get-repository-content`, status: '404' });
      return;
    }
    exchange.json(
      200,
      [...children.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, info]) => ({ name, path: `${prefix}${name}`, ...info, url: `${base}/${prefix}${name}?ref=${commit.sha}` })),
    );
  }

  private installation(exchange: Exchange, identity: Identity, repo: Repository | undefined): void {
    if (identity.kind !== 'app') {
      exchange.json(401, { message: 'A JSON web token could not be decoded', documentation_url: docs });
      return;
    }
    const installation = repo === undefined ? undefined : this.access.installationFor(identity.appId, repo);
    if (installation === undefined) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/apps/apps#get-a-repository-installation-for-the-authenticated-app` });
      return;
    }
    exchange.json(200, installationJson(installation, `http://${headerValue(exchange.req, 'host') ?? '127.0.0.1'}`));
  }

  private accessToken(exchange: Exchange, identity: Identity, rawId: string): void {
    if (identity.kind !== 'app') {
      exchange.json(401, { message: 'A JSON web token could not be decoded', documentation_url: docs });
      return;
    }
    const installation = /^\d+$/.test(rawId) ? this.access.installation(Number(rawId)) : undefined;
    if (installation === undefined || installation.appId !== identity.appId) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/apps/apps#create-an-installation-access-token-for-an-app` });
      return;
    }
    exchange.req.resume();
    const minted = this.access.mintInstallationToken(installation);
    exchange.json(201, {
      token: minted.token,
      expires_at: new Date(minted.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { contents: 'read', metadata: 'read' },
      repository_selection: 'selected',
    });
  }

  /**
   * The web flow's token exchange. GitHub answers errors with a 200 and an
   * `error` field, and answers form-encoded unless asked for JSON.
   */
  private async oauthToken(exchange: Exchange, query: URLSearchParams): Promise<void> {
    const raw = await readSmallBody(exchange.req, 64 * 1024);
    const params = new URLSearchParams(query);
    const type = headerValue(exchange.req, 'content-type') ?? '';
    if (raw !== undefined && raw !== '') {
      if (type.includes('application/json')) {
        try {
          const body = JSON.parse(raw) as Record<string, unknown>;
          for (const [key, value] of Object.entries(body)) if (typeof value === 'string') params.set(key, value);
        } catch {
          exchange.json(400, { message: 'Problems parsing JSON', documentation_url: docs });
          return;
        }
      } else {
        for (const [key, value] of new URLSearchParams(raw)) params.set(key, value);
      }
    }
    const result = this.access.exchangeCode(params.get('client_id') ?? '', params.get('client_secret') ?? '', params.get('code') ?? '');
    const body: Record<string, string | number> = result.ok
      ? { access_token: result.token, expires_in: Math.round((result.expiresAt - this.clock.now()) / 1000), token_type: 'bearer', scope: '' }
      : { error: result.error, error_description: result.description, error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors' };
    if (exchange.accepts('application/json')) {
      exchange.send(200, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8' });
      return;
    }
    const form = new URLSearchParams(Object.entries(body).map(([key, value]): [string, string] => [key, String(value)]));
    exchange.send(200, form.toString(), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
  }

  /** `/user`, `/user/installations`, `/user/memberships/orgs/{org}`: only for a user access token. */
  private userRoute(exchange: Exchange, identity: Identity, matched: Matched, query: URLSearchParams): void {
    if (identity.kind !== 'user') {
      exchange.json(401, { message: 'Requires authentication', documentation_url: `${docs}/users/users#get-the-authenticated-user` });
      return;
    }
    const user = this.access.user(identity.login);
    if (user === undefined) {
      exchange.json(401, { message: 'Bad credentials', documentation_url: docs });
      return;
    }
    const origin = `http://${headerValue(exchange.req, 'host') ?? '127.0.0.1'}`;
    if (matched.route === 'user') {
      exchange.json(200, { login: user.login, id: user.id, type: 'User', site_admin: false, url: `${origin}/users/${user.login}` });
      return;
    }
    if (matched.route === 'user-installations') {
      const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
      const all = this.access.installationsOf(identity);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < all.length) headers.link = `<${origin}/user/installations?per_page=${perPage}&page=${page + 1}>; rel="next"`;
      exchange.json(200, { total_count: all.length, installations: slice.map((installation) => installationJson(installation, origin)) }, headers);
      return;
    }
    const org = matched.org ?? '';
    const role = this.access.orgRole(org, user.login);
    if (role === undefined) {
      exchange.json(404, { message: 'Not Found', documentation_url: `${docs}/orgs/members#get-an-organization-membership-for-the-authenticated-user` });
      return;
    }
    exchange.json(200, {
      url: `${origin}/orgs/${org}/memberships/${user.login}`,
      state: 'active',
      role,
      organization_url: `${origin}/orgs/${org}`,
      organization: { login: org, id: 3_000_000 + org.length, url: `${origin}/orgs/${org}` },
      user: { login: user.login, id: user.id, type: 'User' },
    });
  }

  private rateLimitStatus(exchange: Exchange, identity: Identity): void {
    const state = this.quota.peek(identity);
    const core = { limit: state.limit, remaining: state.remaining, reset: state.reset, used: state.used, resource: 'core' };
    exchange.json(200, { resources: { core }, rate: core });
  }

  private answerRateLimit(exchange: Exchange, fault: Extract<FaultAction, { kind: 'rate-limit' }>): void {
    const status = fault.status ?? 403;
    if (fault.retryAfterSeconds !== undefined) {
      exchange.json(status, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: `${docs}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits` }, { 'retry-after': String(fault.retryAfterSeconds) });
      return;
    }
    const reset = Math.ceil((this.clock.now() + (fault.resetInSeconds ?? 60) * 1000) / 1000);
    exchange.json(status, { message: 'API rate limit exceeded.', documentation_url: `${docs}/overview/rate-limits-for-the-rest-api` }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) });
  }

  private record(entry: RequestRecord): void {
    if (this.records.length < maxRecords) this.records.push(entry);
    this.counts.total += 1;
    const byStatus = (this.counts.byRoute[entry.route] ??= {});
    const key = String(entry.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
}

/**
 * One request/response, adding what every GitHub API answer carries
 * (rate-limit headers, request id, ETags on cacheable answers) and counting
 * the answer exactly once.
 */
class Exchange {
  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly api: boolean,
    private readonly identity: Identity,
    private readonly quota: QuotaBook,
    private readonly onAnswer: (status: number | 'hang' | 'reset') => void,
  ) {}

  accepts(mediaType: string): boolean {
    return (headerValue(this.req, 'accept') ?? '').toLowerCase().includes(mediaType);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    if (status === 200 && this.req.method === 'GET') {
      this.conditional(200, text, 'application/json; charset=utf-8', headers);
      return;
    }
    this.send(status, text, { 'content-type': 'application/json; charset=utf-8', ...headers });
  }

  /** Answers with a strong ETag over the body and what it varies on, or 304 when the client holds it. */
  conditional(status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
    const identityKey = this.identity.kind === 'anonymous' ? '' : JSON.stringify(this.identity);
    const etag = `"${createHash('sha256').update(headerValue(this.req, 'accept') ?? '').update('\n').update(identityKey).update('\n').update(body).digest('hex').slice(0, 40)}"`;
    const ifNoneMatch = headerValue(this.req, 'if-none-match');
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) {
      this.send(304, '', { etag, ...headers });
      return;
    }
    this.send(status, body, { 'content-type': contentType, etag, 'cache-control': 'private, max-age=60, s-maxage=60', vary: 'Accept, Authorization, Cookie, X-GitHub-OTP', ...headers });
  }

  send(status: number, body: string | Buffer, headers: Record<string, string>): void {
    this.res.writeHead(status, { ...this.commonHeaders(status), ...headers });
    this.res.end(status === 304 ? undefined : body);
    this.onAnswer(status);
  }

  /** Sends without a content length (chunked) — how a cut-short download ends cleanly. */
  stream(status: number, body: Buffer, headers: Record<string, string>): void {
    this.res.writeHead(status, { ...this.commonHeaders(status), ...headers });
    this.res.write(body);
    this.res.end();
    this.onAnswer(status);
  }

  hang(): void {
    this.onAnswer('hang');
  }

  reset(): void {
    this.onAnswer('reset');
    this.req.socket.destroy();
  }

  private commonHeaders(status: number): Record<string, string> {
    const headers: Record<string, string> = {
      date: new Date().toUTCString(),
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
    };
    if (!this.api) return headers;
    headers['x-github-media-type'] = 'github.v3; format=json';
    if (this.identity.kind === 'invalid') return headers;
    const state = this.quota.spend(this.identity, status);
    return {
      ...headers,
      'x-ratelimit-limit': String(state.limit),
      'x-ratelimit-remaining': String(state.remaining),
      'x-ratelimit-reset': String(state.reset),
      'x-ratelimit-used': String(state.used),
      'x-ratelimit-resource': 'core',
    };
  }
}

function matchRoute(method: string, path: string): Matched {
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    return { route: 'unknown' };
  }
  const [first, owner, repo, kind, ...rest] = segments;
  if (method === 'GET' && first === 'rate_limit' && segments.length === 1) return { route: 'rate-limit' };
  if (method === 'POST' && first === 'login' && owner === 'oauth' && repo === 'access_token' && segments.length === 3) return { route: 'oauth-token' };
  if (method === 'GET' && first === 'user') {
    if (segments.length === 1) return { route: 'user' };
    if (segments.length === 2 && owner === 'installations') return { route: 'user-installations' };
    if (segments.length === 4 && owner === 'memberships' && repo === 'orgs' && kind !== undefined && kind !== '') return { route: 'org-membership', org: kind };
  }
  if (method === 'POST' && first === 'app' && owner === 'installations' && kind === 'access_tokens' && segments.length === 4 && repo !== undefined) {
    return { route: 'access-token', installationId: repo };
  }
  if (method === 'GET' && first === '_download' && owner !== undefined && repo !== undefined && kind !== undefined && rest.length === 0) {
    return { route: 'download', owner, repo, rest: kind };
  }
  if (method !== 'GET' || first !== 'repos' || owner === undefined || repo === undefined || owner === '' || repo === '') return { route: 'unknown' };
  const tail = rest.join('/');
  switch (kind) {
    case undefined:
      return { route: 'repo', owner, repo };
    case 'commits':
      return tail === '' ? { route: 'unknown' } : { route: 'commit', owner, repo, rest: tail };
    case 'branches':
      return tail === '' ? { route: 'unknown' } : { route: 'branch', owner, repo, rest: tail };
    case 'tarball':
      return { route: 'tarball', owner, repo, rest: tail };
    case 'contents':
      return { route: 'contents', owner, repo, rest: tail };
    case 'installation':
      return rest.length === 0 ? { route: 'installation', owner, repo } : { route: 'unknown' };
    default:
      return { route: 'unknown' };
  }
}

/** Reads a request body up to `limit` bytes (the emulator's own guard); undefined past it. */
async function readSmallBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const strip = (value: string): string => value.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((candidate) => candidate.trim() === '*' || strip(candidate) === strip(etag));
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function defaultMessage(status: number): string {
  if (status === 404) return 'Not Found';
  if (status === 401) return 'Bad credentials';
  if (status === 403) return 'Forbidden';
  if (status >= 500) return status === 502 ? 'Server Error' : 'Service Unavailable';
  return 'Error';
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function repoJson(repo: Repository, origin: string): Record<string, unknown> {
  const name = fullName(repo);
  return {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
    name: repo.name,
    full_name: name,
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    owner: { login: repo.owner, id: repo.id + 1_000_000, type: 'Organization', url: `${origin}/users/${repo.owner}` },
    html_url: `https://github.com/${name}`,
    description: null,
    fork: false,
    url: `${origin}/repos/${name}`,
    archive_url: `${origin}/repos/${name}/{archive_format}{/ref}`,
    contents_url: `${origin}/repos/${name}/contents/{+path}`,
    created_at: iso(repo.createdAt),
    updated_at: iso(repo.pushedAt),
    pushed_at: iso(repo.pushedAt),
    default_branch: repo.defaultBranch,
    archived: false,
    disabled: false,
    size: 0,
  };
}

function commitJson(repo: Repository, commit: Commit, origin: string): Record<string, unknown> {
  const base = `${origin}/repos/${fullName(repo)}`;
  const person = { name: 'Prompt Admin', email: 'admin@example.com', date: iso(commit.date) };
  return {
    sha: commit.sha,
    node_id: Buffer.from(`04:Commit${commit.sha}`).toString('base64'),
    commit: {
      author: person,
      committer: person,
      message: commit.message,
      tree: { sha: commit.treeSha, url: `${base}/git/trees/${commit.treeSha}` },
      url: `${base}/git/commits/${commit.sha}`,
      comment_count: 0,
    },
    url: `${base}/commits/${commit.sha}`,
    html_url: `https://github.com/${fullName(repo)}/commit/${commit.sha}`,
    author: null,
    committer: null,
    parents: commit.parents.map((sha) => ({ sha, url: `${base}/commits/${sha}` })),
    files: [],
  };
}

function installationJson(installation: Installation, origin: string): Record<string, unknown> {
  return {
    id: installation.id,
    account: { login: installation.account, id: installation.accountId, type: installation.accountType },
    app_id: Number(installation.appId),
    app_slug: `app-${installation.appId}`,
    target_type: installation.accountType,
    repository_selection: 'selected',
    access_tokens_url: `${origin}/app/installations/${installation.id}/access_tokens`,
    permissions: { contents: 'read', metadata: 'read' },
    events: [],
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    single_file_name: null,
  };
}

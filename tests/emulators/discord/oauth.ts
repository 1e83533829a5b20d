/**
 * Discord's OAuth2 for a web login, as the real service shapes it:
 *
 * - `GET /oauth2/authorize` (the browser page): checks client_id, redirect_uri
 *   (exact match with a registered one), response_type=code, scopes and the
 *   PKCE challenge (S256), then "approves" as the user chosen with
 *   `approveAs` and redirects to `redirect_uri?code=…&state=…` (or
 *   `error=access_denied` when no user is chosen).
 * - `POST /api/oauth2/token` (and `/api/v10/oauth2/token`): form-encoded,
 *   client credentials by HTTP Basic (client_secret_basic) or in the body
 *   (client_secret_post); the code is single-use, bound to its redirect_uri,
 *   expires after 10 minutes and needs the matching `code_verifier`.
 * - `GET /api/v10/users/@me` and `/api/v10/users/@me/guilds` with
 *   `Authorization: Bearer <access token>`: the user, and their guilds with
 *   `permissions` as a decimal string bitfield.
 *
 *   discord.oauth.registerApp({ clientId, clientSecret, redirectUris: [url] });
 *   discord.oauth.approveAs(alice.id);
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../src/resilience/clock.ts';
import { readBody } from './http-io.ts';
import type { DiscordState } from './state.ts';

interface OAuthApp {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

interface IssuedCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  challenge: string;
  scopes: string[];
  expiresAt: number;
}

const CODE_TTL_MS = 10 * 60_000;
const TOKEN_TTL_S = 604_800;
const KNOWN_SCOPES = new Set(['identify', 'guilds', 'email', 'guilds.members.read', 'connections']);

type ClientAuth = 'basic' | 'post' | 'none';

export interface OAuthRecord {
  path: string;
  status: number;
  /** How the client authenticated at the token endpoint. */
  clientAuth?: ClientAuth;
}

export class OAuthEmulator {
  readonly #apps = new Map<string, OAuthApp>();
  readonly #codes = new Map<string, IssuedCode>();
  readonly #tokens = new Map<string, { userId: string; scopes: string[]; expiresAt: number }>();
  #approver: string | undefined;
  /** Every OAuth request (never a code, secret or token). */
  readonly log: OAuthRecord[] = [];

  constructor(
    private readonly state: DiscordState,
    private readonly clock: Clock,
  ) {}

  registerApp(app: OAuthApp): void {
    this.#apps.set(app.clientId, { ...app, redirectUris: [...app.redirectUris] });
  }

  /** The user the authorize page logs in as from now on; undefined: the user clicks "Cancel". */
  approveAs(userId: string | undefined): void {
    this.#approver = userId;
  }

  /** Revokes every token issued to a user (as deauthorizing the app does). */
  revokeTokensOf(userId: string): void {
    for (const [token, grant] of this.#tokens) if (grant.userId === userId) this.#tokens.delete(token);
  }

  /** Whether this request is an OAuth one (checked before the bot REST pipeline). */
  handles(req: IncomingMessage): boolean {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/oauth2/authorize' || path === '/api/oauth2/token' || path === '/api/v10/oauth2/token') return true;
    return (path === '/api/v10/users/@me' || path === '/api/v10/users/@me/guilds') && (req.headers.authorization ?? '').startsWith('Bearer ');
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = (status: number, body: unknown, extra: Partial<OAuthRecord> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      this.log.push({ path: url.pathname, status, ...extra });
    };
    if (url.pathname === '/oauth2/authorize') return this.#authorize(url, res);
    if (url.pathname.endsWith('/oauth2/token')) {
      if (req.method !== 'POST') return reply(405, { message: '405: Method Not Allowed', code: 0 });
      const raw = await readBody(req, 64 * 1024);
      const { status, body, clientAuth } = this.#token(req, raw.toString('utf8'));
      return reply(status, body, { clientAuth });
    }
    const grant = this.#bearer(req.headers.authorization ?? '');
    if (grant === undefined) return reply(401, { message: '401: Unauthorized', code: 0 });
    const user = this.state.user(grant.userId);
    if (url.pathname === '/api/v10/users/@me') {
      return reply(200, { id: user.id, username: user.username, global_name: user.globalName ?? null, avatar: null, discriminator: '0', public_flags: 0, flags: 0, locale: 'en-US', mfa_enabled: false, premium_type: 0 });
    }
    if (!grant.scopes.includes('guilds')) return reply(403, { message: 'Missing Access', code: 50001 });
    const guilds = [...this.state.guilds.values()]
      .filter((g) => this.state.member(g.id, user.id) !== undefined)
      .map((g) => ({
        id: g.id,
        name: g.name,
        icon: null,
        banner: null,
        owner: g.ownerId === user.id,
        permissions: this.state.guildPermissions(g.id, user.id).toString(),
        features: [],
      }));
    return reply(200, guilds);
  }

  #authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const fail = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Discord</title><p>${message.replace(/[<>&]/g, '')}</p>`);
      this.log.push({ path: url.pathname, status });
    };
    const app = this.#apps.get(q.get('client_id') ?? '');
    if (app === undefined) return fail(400, 'Unknown application');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!app.redirectUris.includes(redirectUri)) return fail(400, 'Invalid OAuth2 redirect_uri');
    const scopes = (q.get('scope') ?? '').split(/[ +]/).filter(Boolean);
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const redirect = (): void => {
      res.writeHead(302, { location: back.href });
      res.end();
      this.log.push({ path: url.pathname, status: 302 });
    };
    if (q.get('response_type') !== 'code' || scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
      back.searchParams.set('error', q.get('response_type') !== 'code' ? 'unsupported_response_type' : 'invalid_scope');
      return redirect();
    }
    const challenge = q.get('code_challenge');
    if (challenge !== null && q.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'invalid_request');
      return redirect();
    }
    if (this.#approver === undefined) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The resource owner or authorization server denied the request');
      return redirect();
    }
    const code = randomBytes(15).toString('base64url');
    this.#codes.set(code, { clientId: app.clientId, userId: this.#approver, redirectUri, challenge: challenge ?? '', scopes, expiresAt: this.clock.now() + CODE_TTL_MS });
    back.searchParams.set('code', code);
    redirect();
  }

  #token(req: IncomingMessage, raw: string): { status: number; body: unknown; clientAuth: ClientAuth } {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'Request body must be application/x-www-form-urlencoded' }, clientAuth: 'none' };
    }
    const form = new URLSearchParams(raw);
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    let clientAuth: ClientAuth = secret === null ? 'none' : 'post';
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    if (basic?.[1] !== undefined) {
      const [id, pass] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(pass ?? '');
      clientAuth = 'basic';
    }
    const app = this.#apps.get(clientId ?? '');
    if (app === undefined || secret === null || !same(secret, app.clientSecret)) return { status: 401, body: { error: 'invalid_client' }, clientAuth };
    if (form.get('grant_type') !== 'authorization_code') return { status: 400, body: { error: 'unsupported_grant_type' }, clientAuth };
    const code = form.get('code') ?? '';
    const issued = this.#codes.get(code);
    // Single use, whatever happens next.
    this.#codes.delete(code);
    const invalid = (description: string) => ({ status: 400, body: { error: 'invalid_grant', error_description: description }, clientAuth });
    if (issued === undefined || issued.clientId !== app.clientId || issued.expiresAt < this.clock.now()) return invalid('Invalid "code" in request.');
    if (form.get('redirect_uri') !== issued.redirectUri) return invalid('Invalid "redirect_uri" in request.');
    if (issued.challenge !== '') {
      const verifier = form.get('code_verifier') ?? '';
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (!same(computed, issued.challenge)) return invalid('Invalid "code_verifier" in request.');
    }
    const accessToken = randomBytes(22).toString('base64url');
    this.#tokens.set(accessToken, { userId: issued.userId, scopes: issued.scopes, expiresAt: this.clock.now() + TOKEN_TTL_S * 1000 });
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_TTL_S, refresh_token: randomBytes(22).toString('base64url'), scope: issued.scopes.join(' ') },
      clientAuth,
    };
  }

  #bearer(header: string): { userId: string; scopes: string[] } | undefined {
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    const grant = token === undefined ? undefined : this.#tokens.get(token);
    return grant !== undefined && grant.expiresAt > this.clock.now() ? grant : undefined;
  }
}

function same(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

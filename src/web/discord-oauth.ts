import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Secret } from '../config/secret.ts';
import { randomToken } from './cookie-crypto.ts';
import type { SessionGuild } from './tables.ts';

/** Discord's OAuth2 (authorization code + PKCE S256) as the dashboard's login. */
export interface DiscordOAuth {
  /** Where the browser goes to log in, and the state and verifier to keep until the callback. */
  begin(): { url: string; state: string; verifier: string };
  /** Exchanges the callback's code; the access token is used at once and never stored. */
  finish(code: string, verifier: string): Promise<{ user: { id: string; name: string }; guilds: SessionGuild[] }>;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
}

const SCOPES = 'identify guilds';
const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

const tokenAnswer = z.object({ access_token: z.string().min(1).max(512), token_type: z.string() });
const userAnswer = z.object({ id: z.string().regex(/^\d{1,22}$/), username: z.string().max(100), global_name: z.string().max(100).nullish() });
const guildsAnswer = z
  .array(z.object({ id: z.string().regex(/^\d{1,22}$/), name: z.string().max(100), permissions: z.string().regex(/^\d{1,20}$/) }))
  .max(500);

export function createDiscordOAuth(deps: { apiUrl: string; clientId: string; clientSecret: Secret; redirectUri: string }): DiscordOAuth {
  const api = deps.apiUrl.replace(/\/+$/, '');
  const authorize = `${api.replace(/\/api$/, '')}/oauth2/authorize`;

  const call = async <T>(what: string, schema: z.ZodType<T>, url: string, init: RequestInit): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw new OAuthError(`Discord could not be reached for ${what} (${error instanceof Error ? error.name : 'error'})`);
    }
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new OAuthError(`Discord's answer for ${what} was too large`);
    if (!response.ok) throw new OAuthError(`Discord refused ${what} (HTTP ${response.status})`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthError(`Discord's answer for ${what} was not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new OAuthError(`Discord's answer for ${what} did not have the expected shape`);
    return parsed.data;
  };

  return {
    begin() {
      const state = randomToken(24);
      const verifier = randomToken(48);
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const url = new URL(authorize);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: deps.clientId,
        scope: SCOPES,
        redirect_uri: deps.redirectUri,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'none',
      }).toString();
      return { url: url.href, state, verifier };
    },
    async finish(code, verifier) {
      const basic = Buffer.from(`${encodeURIComponent(deps.clientId)}:${encodeURIComponent(deps.clientSecret.reveal())}`).toString('base64');
      const token = await call('the token exchange', tokenAnswer, `${api}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: deps.redirectUri, code_verifier: verifier }).toString(),
      });
      const auth = { authorization: `Bearer ${token.access_token}` };
      const [user, guilds] = await Promise.all([
        call('your user', userAnswer, `${api}/v10/users/@me`, { headers: auth }),
        call('your servers', guildsAnswer, `${api}/v10/users/@me/guilds`, { headers: auth }),
      ]);
      return {
        user: { id: user.id, name: user.global_name ?? user.username },
        guilds: guilds.map((g) => ({ id: g.id, name: g.name, permissions: g.permissions })),
      };
    },
  };
}

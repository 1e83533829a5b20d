/**
 * The dashboard's OAuth2 client against the Discord emulator's OAuth2
 * endpoints over real HTTP, and the emulator's refusals as Discord words them.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.ts';
import { createDiscordOAuth, OAuthError } from '../../src/web/discord-oauth.ts';
import { html, raw, safeHref } from '../../src/web/html.ts';
import { startDiscordEmulator, type DiscordEmulator, type StoredUser } from '../emulators/discord/server.ts';

const CLIENT_ID = '700000000000000001';
const SECRET = 'the-client-secret-123';
const REDIRECT = 'http://127.0.0.1:1/auth/callback';

describe('Discord OAuth2 (emulator and client)', () => {
  let discord: DiscordEmulator;
  let alice: StoredUser;
  let guildId: string;

  beforeAll(async () => {
    discord = await startDiscordEmulator();
    const guild = discord.addGuild({ name: 'OAuth Guild' });
    guildId = guild.id;
    alice = discord.addUser({ username: 'alice', globalName: 'Alice A.' });
    discord.addMember(guild.id, alice.id, { permissions: ['ManageGuild'] });
    discord.addGuild({ name: 'Not hers' });
    discord.oauth.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, redirectUris: [REDIRECT] });
  });
  afterAll(async () => {
    await discord?.close();
  });

  const client = (secret = SECRET) => createDiscordOAuth({ apiUrl: discord.apiUrl, clientId: CLIENT_ID, clientSecret: new Secret(secret), redirectUri: REDIRECT });

  /** What the browser does: follows the authorize URL; returns the callback's query. */
  async function authorize(url: string): Promise<URLSearchParams> {
    const answer = await fetch(url, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    return location.searchParams;
  }

  it('code + PKCE + state: the user and their guilds with permissions as a string bitfield', async () => {
    discord.oauth.approveAs(alice.id);
    const oauth = client();
    const begun = oauth.begin();
    const url = new URL(begun.url);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe('identify guilds');
    const back = await authorize(begun.url);
    expect(back.get('state')).toBe(begun.state);
    const login = await oauth.finish(back.get('code') ?? '', begun.verifier);
    expect(login.user).toEqual({ id: alice.id, name: 'Alice A.' });
    expect(login.guilds).toHaveLength(1);
    expect(login.guilds[0]).toMatchObject({ id: guildId, name: 'OAuth Guild' });
    expect(BigInt(login.guilds[0]?.permissions ?? '0') & 0x20n).toBe(0x20n);
  });

  it('refuses a wrong verifier, a reused code and a wrong client secret', async () => {
    discord.oauth.approveAs(alice.id);
    const oauth = client();
    const begun = oauth.begin();
    const code = (await authorize(begun.url)).get('code') ?? '';
    await expect(oauth.finish(code, 'x'.repeat(64))).rejects.toThrow(OAuthError);
    // The failed attempt used the code up.
    await expect(oauth.finish(code, begun.verifier)).rejects.toThrow(/HTTP 400/);
    const again = oauth.begin();
    const second = (await authorize(again.url)).get('code') ?? '';
    await expect(client('wrong-secret-000').finish(second, again.verifier)).rejects.toThrow(/HTTP 401/);
  });

  it('takes client_secret_post as well, and answers invalid_grant as Discord does', async () => {
    discord.oauth.approveAs(alice.id);
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorizeUrl = `${discord.baseUrl}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, scope: 'identify', redirect_uri: REDIRECT, state: 's', code_challenge: challenge, code_challenge_method: 'S256' })}`;
    const code = (await authorize(authorizeUrl)).get('code') ?? '';
    const token = async (extra: Record<string, string>) =>
      fetch(`${discord.baseUrl}/api/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT_ID, client_secret: SECRET, ...extra }),
      });
    const ok = await token({ code_verifier: verifier });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'identify', expires_in: 604800 });
    // Only `identify`: the guild list is refused.
    const guilds = await fetch(`${discord.apiUrl}/v10/users/@me/guilds`, { headers: { authorization: `Bearer ${String(body['access_token'])}` } });
    expect(guilds.status).toBe(403);
    const reused = await token({ code_verifier: verifier });
    expect(await reused.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
    expect(discord.oauth.log.some((r) => r.clientAuth === 'post' && r.status === 200)).toBe(true);
  });

  it('a user who cancels comes back with error=access_denied and the state', async () => {
    discord.oauth.approveAs(undefined);
    const begun = client().begin();
    const back = await authorize(begun.url);
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('state')).toBe(begun.state);
    expect(back.get('code')).toBeNull();
  });

  it('refuses an unregistered redirect_uri on the authorize page itself', async () => {
    const answer = await fetch(`${discord.baseUrl}/oauth2/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&response_type=code&scope=identify`, { redirect: 'manual' });
    expect(answer.status).toBe(400);
  });
});

describe('html template', () => {
  it('escapes every value that is not itself markup', () => {
    const name = '<img src=x onerror=alert(1)> & "quotes" \'single\' `tick`';
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot; &#39;single&#39; &#96;tick&#96;">&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot; &#39;single&#39; &#96;tick&#96;</p>',
    );
    expect(html`<ul>${['<a>', raw('<li>ok</li>')]}</ul>`.text).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
  });

  it('lets only http(s) and same-site paths into links', () => {
    expect(safeHref('javascript:alert(1)')).toBe('#');
    expect(safeHref('//evil.example/x')).toBe('#');
    expect(safeHref('/guilds/1')).toBe('/guilds/1');
    expect(safeHref('https://discord.com/channels/1/2/3')).toBe('https://discord.com/channels/1/2/3');
  });
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import { BodyRefusedError } from '../http/bounded-body.ts';
import type { HttpServer } from '../http/server.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { PromptEngine } from '../prompts/engine.ts';
import type { LlmService } from '../llm/service.ts';
import type { Clock } from '../resilience/clock.ts';
import type { BotView } from './bot-view.ts';
import { sameToken, type CookieCrypto } from './cookie-crypto.ts';
import { cookieJar, readCookie } from './cookies.ts';
import type { DiscordOAuth } from './discord-oauth.ts';
import { readForm } from './form-body.ts';
import { guildPages, type GuildRequest } from './guild-pages.ts';
import type { Html } from './html.ts';
import { guildsPage } from './pages/guilds-page.ts';
import { loginPage } from './pages/login-page.ts';
import { messagePage } from './pages/message-page.ts';
import { markStart, redirect, sendHtml } from './respond.ts';
import type { SessionStore, WebSession } from './session-store.ts';
import { loadStaticFiles, sendStatic } from './static-files.ts';
import { OAuthError } from './discord-oauth.ts';
import type { WebConfig } from './web-env.ts';
import type { PageChrome } from './layout.ts';

export interface DashboardDeps {
  http: HttpServer;
  config: WebConfig;
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  prompts: PromptEngine;
  llm: LlmService;
  bot: BotView;
  oauth: DiscordOAuth;
  sessions: SessionStore;
  crypto: CookieCrypto;
}

/** Manage Server (0x20) or Administrator (0x8) in Discord's permission bits. */
export function listsManageGuild(permissions: string): boolean {
  const bits = BigInt(permissions);
  return (bits & 0x20n) === 0x20n || (bits & 0x8n) === 0x8n;
}

const LOGIN_TTL_MS = 10 * 60_000;
const SNOWFLAKE = /^\d{15,22}$/;

/**
 * Mounts the dashboard on the HTTP server: `/`, `/auth/*`, `/guilds/<id>/…`
 * and `/static/*`. Every page needs a session; every POST needs the
 * session's CSRF token; admin pages need Manage Server both in Discord's
 * list at login and in the bot's view of the member now.
 */
export function mountDashboard(deps: DashboardDeps): void {
  const { http, config, sessions, crypto, logger, clock } = deps;
  const jar = cookieJar(config.publicUrl);
  const redirectUri = new URL('auth/callback', config.publicUrl).href;
  const statics = loadStaticFiles();
  const pages = guildPages(deps);

  const sessionOf = async (req: IncomingMessage): Promise<{ session: WebSession; cookie: string } | undefined> => {
    const cookie = readCookie(req, jar.sessionName);
    if (cookie === undefined) return undefined;
    const session = await sessions.find(cookie);
    return session === undefined ? undefined : { session, cookie };
  };
  const chromeOf = (session: WebSession): Pick<PageChrome, 'user'> => ({ user: { name: session.userName, csrfToken: session.csrfToken } });

  /** A POST from this site's own form: Origin (when sent) is ours, and the CSRF field is the session's token. */
  const checkPost = async (req: IncomingMessage, session: WebSession): Promise<URLSearchParams | undefined> => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== config.publicUrl.origin) return undefined;
    const form = await readForm(req, http.bodies);
    const token = form.get('csrf');
    return token !== null && sameToken(token, session.csrfToken) ? form : undefined;
  };

  const refuse = (res: ServerResponse, status: number, title: string, message: string, session?: WebSession): void =>
    sendHtml(res, status, messagePage({ title, ...(session === undefined ? {} : chromeOf(session)) }, message));

  const guarded = (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => async (req: IncomingMessage, res: ServerResponse) => {
    markStart(res);
    try {
      await handler(req, res);
    } catch (error) {
      if (error instanceof BodyRefusedError) {
        if (!res.headersSent) refuse(res, error.status, 'Request refused', error.message);
        return;
      }
      logger.error({ err: error, path: (req.url ?? '').split('?', 1)[0] }, 'dashboard page failed');
      if (!res.headersSent) refuse(res, 500, 'Something went wrong', 'This page could not be made just now; nothing was changed. Try again in a moment.');
    }
  };

  http.route('GET', '/', guarded(async (req, res) => {
    const found = await sessionOf(req);
    if (found === undefined) return sendHtml(res, 200, loginPage());
    const botGuilds = await deps.bot.guildIds();
    const guilds = found.session.guilds
      .filter((g) => botGuilds.has(g.id))
      .map((g) => ({ id: g.id, name: g.name, admin: listsManageGuild(g.permissions) }));
    sendHtml(res, 200, guildsPage(chromeOf(found.session), guilds));
  }));

  http.route('GET', '/auth/login', guarded(async (_req, res) => {
    const { url, state, verifier } = deps.oauth.begin();
    const sealed = crypto.seal(JSON.stringify({ state, verifier, exp: clock.now() + LOGIN_TTL_MS }));
    redirect(res, url, [jar.set(jar.loginName, sealed, LOGIN_TTL_MS / 1000)]);
  }));

  http.route('GET', '/auth/callback', guarded(async (req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const clearLogin = jar.clear(jar.loginName);
    const sealed = readCookie(req, jar.loginName);
    const opened = sealed === undefined ? undefined : crypto.open(sealed);
    let pending: { state?: unknown; verifier?: unknown; exp?: unknown } = {};
    try {
      pending = opened === undefined ? {} : (JSON.parse(opened) as typeof pending);
    } catch {
      pending = {};
    }
    const state = query.get('state');
    const code = query.get('code');
    if (query.get('error') !== null) {
      return sendHtml(res, 400, loginPage('Discord did not authorize the login (it answered: access denied or cancelled). Try again.'), [clearLogin]);
    }
    if (
      typeof pending.state !== 'string' || typeof pending.verifier !== 'string' || typeof pending.exp !== 'number' ||
      pending.exp < clock.now() || state === null || !sameToken(state, pending.state) || code === null || code.length > 512
    ) {
      return sendHtml(res, 400, loginPage('This login link is expired or was not started here. Log in again.'), [clearLogin]);
    }
    let login;
    try {
      login = await deps.oauth.finish(code, pending.verifier);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      logger.warn({ reason: error.message }, 'dashboard login failed');
      return sendHtml(res, 502, loginPage(`${error.message}. Try again.`), [clearLogin]);
    }
    const created = await sessions.create({ userId: login.user.id, userName: login.user.name, guilds: login.guilds });
    logger.info({ userId: login.user.id }, 'dashboard login');
    redirect(res, '/', [clearLogin, jar.set(jar.sessionName, created.cookie, config.sessionTtlMs / 1000)]);
  }));

  http.route('POST', '/auth/logout', guarded(async (req, res) => {
    const found = await sessionOf(req);
    if (found === undefined) return redirect(res, '/', [jar.clear(jar.sessionName)]);
    if ((await checkPost(req, found.session)) === undefined) return refuse(res, 403, 'Request refused', 'This form was not sent from this dashboard (its security token is missing or wrong). Nothing was changed.', found.session);
    await sessions.revoke(found.cookie);
    redirect(res, '/', [jar.clear(jar.sessionName)]);
  }));

  for (const [path, file] of statics) http.route('GET', path, (_req, res) => sendStatic(res, file));

  const guildRoute = (method: 'GET' | 'POST') =>
    guarded(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, , guildId, page = '', ...rest] = url.pathname.split('/');
      const found = await sessionOf(req);
      if (found === undefined) return sendHtml(res, 401, loginPage('Log in to see this page.'));
      const { session } = found;
      const handler = rest.length === 0 ? pages[`${method} ${page}`] : undefined;
      if (guildId === undefined || !SNOWFLAKE.test(guildId) || handler === undefined) return refuse(res, 404, 'Not found', 'There is no such page.', session);
      let form: URLSearchParams | undefined;
      if (method === 'POST') {
        form = await checkPost(req, session);
        if (form === undefined) return refuse(res, 403, 'Request refused', 'This form was not sent from this dashboard (its security token is missing or wrong). Nothing was changed.', session);
      }
      const listed = session.guilds.find((g) => g.id === guildId);
      const guild = listed === undefined ? undefined : await deps.bot.guild(guildId);
      if (listed === undefined || guild === undefined) return refuse(res, 404, 'Not found', 'recap-bot is not in this server, or you are not a member of it.', session);
      // Admin pages: Manage Server in Discord's list at login AND in the bot's view of the member now.
      const admin = listsManageGuild(listed.permissions) && (await deps.bot.isAdmin(guild, session.userId));
      if (handler.admin && !admin) {
        return refuse(res, 403, 'Manage Server needed', 'This page is for members with the Manage Server permission in this server.', session);
      }
      const request: GuildRequest = { guild, session, admin, query: url.searchParams, form };
      const answer: { page: Html } | { redirect: string } = await handler.run(request, { ...chromeOf(session), guild: { id: guild.id, name: guild.name, admin, current: handler.tab } });
      if ('redirect' in answer) redirect(res, answer.redirect);
      else sendHtml(res, 200, answer.page);
    });
  http.routePrefix('GET', '/guilds/', guildRoute('GET'));
  http.routePrefix('POST', '/guilds/', guildRoute('POST'));
}

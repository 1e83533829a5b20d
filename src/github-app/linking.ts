import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Octokit } from 'octokit';
import type { Config } from '../config/env.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import { InstallationLinkStore, type InstallationLink } from '../prompts/sources/app-installations.ts';
import type { RequestCounter } from '../prompts/sources/github-http.ts';
import { verifyInstallationAdmin, type AdminCheck } from './installation-admin.ts';
import { deriveStateKey, InstallStates, type StateCheck, type StateClaims } from './install-state.ts';

/**
 * Linking GitHub App installations to guilds: the install link a guild
 * admin gets in Discord, and completing it when GitHub sends the browser
 * back. Built only when the operator configured the App's web side
 * (GITHUB_APP_SLUG, GITHUB_APP_CLIENT_ID, GITHUB_APP_CLIENT_SECRET).
 */
export interface GithubAppLinking {
  /** `https://github.com/apps/<slug>/installations/new?state=…`, good once, for `ttlMs`. */
  installLink(guildId: string, discordUserId: string): Promise<{ url: string; expiresAt: number }>;
  links(guildId: string): Promise<InstallationLink[]>;
  unlink(guildId: string, installationId: number): Promise<boolean>;
  /** The setup route's steps, in the order it must take them. */
  checkState(state: string | null | undefined): StateCheck;
  consumeState(claims: StateClaims): Promise<boolean>;
  verifyAdmin(code: string, installationId: number): Promise<AdminCheck>;
  /**
   * GitHub's authorization page for this App, coming back to `redirectUri`
   * with a code and the same state: for an installation that already
   * existed (GitHub asks for authorization only on a first install).
   */
  authorizeUrl(state: string, redirectUri: string): string;
  store: InstallationLinkStore;
}

interface GithubAppLinkingDeps {
  db: Kysely<Database>;
  config: Config;
  octokit: Octokit;
  clock: Clock;
  logger: Logger;
  onRequest?: RequestCounter;
  /** Default 10 minutes. */
  stateTtlMs?: number;
}

export function createGithubAppLinking(deps: GithubAppLinkingDeps): GithubAppLinking | undefined {
  const { app, appInstall, webUrl, requestTimeoutMs } = deps.config.github;
  if (app === undefined || appInstall === undefined) return undefined;
  const states = InstallStates.over(deps.db, {
    key: deriveStateKey(appInstall.clientSecret),
    clock: deps.clock,
    ...(deps.stateTtlMs === undefined ? {} : { ttlMs: deps.stateTtlMs }),
  });
  const store = InstallationLinkStore.over(deps.db);
  const adminDeps = {
    octokit: deps.octokit,
    webUrl,
    appId: app.id,
    clientId: appInstall.clientId,
    clientSecret: appInstall.clientSecret,
    requestTimeoutMs,
    ...(deps.onRequest === undefined ? {} : { onRequest: deps.onRequest }),
  };
  return {
    store,
    async installLink(guildId, discordUserId) {
      const state = await states.issue(guildId, discordUserId);
      const url = new URL(`${webUrl}/apps/${encodeURIComponent(appInstall.slug)}/installations/new`);
      url.searchParams.set('state', state);
      return { url: url.toString(), expiresAt: deps.clock.now() + states.ttl };
    },
    links: (guildId) => store.forGuild(guildId),
    unlink: (guildId, installationId) => store.unlink(guildId, installationId),
    checkState: (state) => states.check(state),
    consumeState: (claims) => states.consume(claims),
    verifyAdmin: (code, installationId) => verifyInstallationAdmin(adminDeps, code, installationId),
    authorizeUrl(state, redirectUri) {
      const url = new URL(`${webUrl}/login/oauth/authorize`);
      url.searchParams.set('client_id', appInstall.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      return url.toString();
    },
  };
}

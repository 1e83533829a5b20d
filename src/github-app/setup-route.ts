import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpServer } from '../http/server.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock } from '../resilience/clock.ts';
import { sendPage } from './html-page.ts';
import type { GithubAppLinking } from './linking.ts';

export const GITHUB_APP_SETUP_PATH = '/github/setup';

export interface GithubAppSetupDeps {
  /** Undefined when the operator has not configured the App's web side: the route says so. */
  linking: GithubAppLinking | undefined;
  /** Forgets the guild's cached prompts here and in the other processes, so the link counts at once. */
  onLinked(guildId: string): void;
  /** PUBLIC_URL: lets the route send the browser through GitHub's authorization when GitHub did not. */
  publicUrl?: URL;
  /** Records the link in the guild's audit log. */
  audit?(entry: { guildId: string; actorId: string; action: string; details: Record<string, unknown> }): Promise<void>;
  clock: Clock;
  logger: Logger;
}

const INSTALLATION_ID = /^[1-9][0-9]{0,15}$/;
const CODE = /^[A-Za-z0-9_-]{1,100}$/;
const AGAIN = 'Run /prompt-config github-app in your Discord server for a new link.';

/**
 * GET /github/setup: where GitHub sends the browser after someone installed
 * (or updated) the App from a link the bot handed out, with `state`, the
 * `installation_id` and, with user authorization during installation, a
 * `code`. The state is checked first (no I/O); then it is used up; then
 * GitHub is asked, with the user's own authorization, whether this user
 * administers that installation. Only then is the link stored. Every
 * refusal is a 4xx/5xx page with the reason, and stores nothing.
 */
export function mountGithubAppSetup(http: HttpServer, deps: GithubAppSetupDeps): void {
  const logger = deps.logger.child({ component: 'github-app' });

  http.route('GET', GITHUB_APP_SETUP_PATH, async (req: IncomingMessage, res: ServerResponse) => {
    const refuse = (status: number, reason: string, fields: Record<string, unknown> = {}): void => {
      logger.info({ status, reason, ...fields }, 'GitHub App link refused');
      sendPage(res, status, 'The GitHub App was not linked', [reason]);
    };
    const { linking } = deps;
    if (linking === undefined) {
      sendPage(res, 503, 'GitHub App linking is off', [
        'This bot is not set up to link GitHub App installations. Its operator must set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_SLUG, GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET.',
      ]);
      return;
    }
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;

    const checked = linking.checkState(query.get('state'));
    if (!checked.ok) {
      refuse(400, `${checked.reason}`);
      return;
    }
    const { claims } = checked;
    const context = { guild: claims.guildId, discordUser: claims.discordUserId };

    const denied = query.get('error');
    if (denied !== null) {
      refuse(400, `GitHub reports that the authorization was not given (${denied === 'access_denied' ? 'declined' : 'an error'}). The App needs it to check that you administer the account. ${AGAIN}`, context);
      return;
    }
    const action = query.get('setup_action');
    if (action === 'request') {
      refuse(403, 'You asked an owner of the organization to install the App; nothing is linked yet. Once an owner approved, an owner of the organization must complete a link: ' + AGAIN, context);
      return;
    }
    if (action !== null && action !== 'install' && action !== 'update') {
      refuse(400, `GitHub sent an unknown setup action. ${AGAIN}`, context);
      return;
    }
    const rawInstallation = query.get('installation_id') ?? '';
    if (!INSTALLATION_ID.test(rawInstallation)) {
      refuse(400, `The address names no valid installation. ${AGAIN}`, context);
      return;
    }
    const installationId = Number(rawInstallation);
    const code = query.get('code') ?? '';
    if (!CODE.test(code)) {
      // GitHub asks for authorization on a first install only: for an installation that
      // already existed, ask for it now, coming back here with the same state.
      if (deps.publicUrl !== undefined && query.get('authorized') === null) {
        const back = new URL(GITHUB_APP_SETUP_PATH.slice(1), deps.publicUrl.href.replace(/\/?$/, '/'));
        back.searchParams.set('installation_id', rawInstallation);
        back.searchParams.set('setup_action', action ?? 'install');
        back.searchParams.set('authorized', '1');
        res.writeHead(302, { location: linking.authorizeUrl(query.get('state') ?? '', back.toString()), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
        res.end();
        return;
      }
      refuse(400, 'GitHub did not ask you to authorize the App, so the bot cannot check that you administer this installation. The bot\'s operator must tick "Request user authorization (OAuth) during installation" in the App\'s settings, set its callback URL to this address, and set PUBLIC_URL.', context);
      return;
    }

    // Used up before anything is asked of GitHub: a state completes at most one attempt.
    let fresh: boolean;
    try {
      fresh = await linking.consumeState(claims);
    } catch (error) {
      logger.warn({ err: error, ...context }, 'could not use up an install state');
      sendPage(res, 503, 'The GitHub App was not linked', [`The bot's database is unavailable. ${AGAIN}`]);
      return;
    }
    if (!fresh) {
      refuse(400, `This install link was used already (each link works once). ${AGAIN}`, context);
      return;
    }

    const verdict = await linking.verifyAdmin(code, installationId);
    if (!verdict.ok) {
      refuse(verdict.status, verdict.reason, { ...context, installation: installationId });
      return;
    }
    const { installation } = verdict;
    let stored: boolean;
    try {
      stored = await linking.store.link({
        guildId: claims.guildId,
        installationId,
        accountLogin: installation.accountLogin,
        accountType: installation.accountType,
        linkedByDiscordUser: claims.discordUserId,
        linkedByGitHubLogin: installation.githubLogin,
        linkedAt: new Date(deps.clock.now()),
      });
    } catch (error) {
      logger.warn({ err: error, ...context }, 'could not store a GitHub App link');
      sendPage(res, 503, 'The GitHub App was not linked', [`The bot's database is unavailable. ${AGAIN}`]);
      return;
    }
    if (!stored) {
      refuse(409, 'This Discord server has linked as many installations as it may; remove one with /prompt-config github-app unlink first.', context);
      return;
    }
    deps.onLinked(claims.guildId);
    await deps
      .audit?.({
        guildId: claims.guildId,
        actorId: claims.discordUserId,
        action: 'prompt-config.github-app.link',
        details: { installation: installationId, account: installation.accountLogin, githubUser: installation.githubLogin },
      })
      .catch((error: unknown) => logger.warn({ err: error, ...context }, 'could not write the audit entry of a GitHub App link'));
    logger.info(
      { ...context, installation: installationId, account: installation.accountLogin, accountType: installation.accountType, githubUser: installation.githubLogin },
      'GitHub App installation linked to a guild',
    );
    const kind = installation.accountType === 'Organization' ? 'organization' : 'user account';
    sendPage(res, 200, 'GitHub App linked', [
      `Installation ${installationId} on the GitHub ${kind} ${installation.accountLogin} is now linked to the Discord server ${claims.guildId}, approved by ${installation.githubLogin}.`,
      'The bot reads that server\'s prompt repositories through this installation from now on (only the repositories you gave the App access to). You can close this page; /prompt-config status in Discord shows what serves.',
    ]);
  });
}

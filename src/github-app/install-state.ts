import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Secret } from '../config/secret.ts';
import type { Clock } from '../resilience/clock.ts';
import type { Timestamp } from '../db/column-types.ts';
import type { Database } from '../db/schema.ts';

/**
 * The `state` of a GitHub App install link: it names the guild and the
 * Discord member who asked for the link, is signed (HMAC-SHA256), expires
 * after a few minutes and is good for one completed link (its nonce is
 * stored when issued and deleted when used). GitHub hands it back
 * unchanged on the setup (callback) URL, so a link cannot be completed
 * for a guild whose admin did not ask for it.
 */

export interface GithubAppInstallStatesTable {
  nonce: string;
  guild_id: string;
  discord_user_id: string;
  created_at: Timestamp<'no default'>;
  expires_at: Timestamp<'no default'>;
}

export interface InstallStateTables {
  github_app_install_states: GithubAppInstallStatesTable;
}

export interface StateClaims {
  guildId: string;
  discordUserId: string;
  nonce: string;
  /** ms since epoch. */
  expiresAt: number;
}

export type StateCheck = { ok: true; claims: StateClaims } | { ok: false; reason: string };

interface InstallStatesOptions {
  /** The signing key; see deriveStateKey. */
  key: Buffer;
  clock: Clock;
  /** How long an install link works; default 10 minutes. */
  ttlMs?: number;
  /** Unused links kept per guild; asking again past this drops the oldest. Default 5. */
  maxPerGuild?: number;
}

const VERSION = 'v1';
/** Far above a real state (~150 characters); longer input is refused before any work. */
const MAX_STATE_LENGTH = 512;
const DISCORD_ID = /^\d{1,25}$/;
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/**
 * The state key, derived from the App's client secret: a secret the bot
 * needs for this flow anyway, that only the operator (and GitHub) hold.
 * HKDF keeps the two uses apart.
 */
export function deriveStateKey(clientSecret: Secret): Buffer {
  return Buffer.from(hkdfSync('sha256', clientSecret.reveal(), 'recap-bot', 'github-app install state v1', 32));
}

export class InstallStates {
  private readonly ttlMs: number;
  private readonly maxPerGuild: number;

  static over(db: Kysely<Database>, options: InstallStatesOptions): InstallStates {
    return new InstallStates(db, options);
  }

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly options: InstallStatesOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 600_000;
    this.maxPerGuild = options.maxPerGuild ?? 5;
  }

  get ttl(): number {
    return this.ttlMs;
  }

  /** A new state for this guild and member, recorded so it can be used once. */
  async issue(guildId: string, discordUserId: string): Promise<string> {
    if (!DISCORD_ID.test(guildId) || !DISCORD_ID.test(discordUserId)) throw new Error('install state: guild and user must be Discord ids');
    const now = this.options.clock.now();
    const claims: StateClaims = { guildId, discordUserId, nonce: randomBytes(16).toString('base64url'), expiresAt: now + this.ttlMs };
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('github_app_install_states').where('expires_at', '<=', new Date(now)).execute();
      const kept = await tx
        .selectFrom('github_app_install_states')
        .select('nonce')
        .where('guild_id', '=', guildId)
        .orderBy('created_at', 'desc')
        .limit(Math.max(0, this.maxPerGuild - 1))
        .execute();
      let stale = tx.deleteFrom('github_app_install_states').where('guild_id', '=', guildId);
      if (kept.length > 0) stale = stale.where('nonce', 'not in', kept.map((row) => row.nonce));
      await stale.execute();
      await tx
        .insertInto('github_app_install_states')
        .values({ nonce: claims.nonce, guild_id: guildId, discord_user_id: discordUserId, created_at: new Date(now), expires_at: new Date(claims.expiresAt) })
        .execute();
    });
    return this.sign(claims);
  }

  /** Signature, shape and expiry only: no I/O, so a forged state costs nothing. */
  check(state: string | null | undefined): StateCheck {
    if (state === null || state === undefined || state === '') return { ok: false, reason: 'The link carried no state: start again with `/prompt-config github-app` in your Discord server.' };
    if (state.length > MAX_STATE_LENGTH) return { ok: false, reason: 'The state of this link is not one the bot issued.' };
    const parts = state.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'The state of this link is not one the bot issued.' };
    const [, body, mac] = parts as [string, string, string];
    const expected = this.mac(body);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'The state of this link is not one the bot issued (bad signature).' };
    }
    let claims: StateClaims;
    try {
      const raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = { guildId: String(raw.g), discordUserId: String(raw.u), nonce: String(raw.n), expiresAt: Number(raw.e) };
    } catch {
      return { ok: false, reason: 'The state of this link is not one the bot issued.' };
    }
    if (!DISCORD_ID.test(claims.guildId) || !DISCORD_ID.test(claims.discordUserId) || !NONCE.test(claims.nonce) || !Number.isSafeInteger(claims.expiresAt)) {
      return { ok: false, reason: 'The state of this link is not one the bot issued.' };
    }
    if (this.options.clock.now() >= claims.expiresAt) {
      return { ok: false, reason: 'This install link has expired (links work for 10 minutes): run `/prompt-config github-app` again.' };
    }
    return { ok: true, claims };
  }

  /** Uses the state up; false when it was used (or dropped) already. Atomic across processes. */
  async consume(claims: StateClaims): Promise<boolean> {
    const deleted = await this.db
      .deleteFrom('github_app_install_states')
      .where('nonce', '=', claims.nonce)
      .where('guild_id', '=', claims.guildId)
      .where('discord_user_id', '=', claims.discordUserId)
      .where('expires_at', '>', new Date(this.options.clock.now()))
      .returning('nonce')
      .execute();
    return deleted.length === 1;
  }

  private sign(claims: StateClaims): string {
    const body = Buffer.from(JSON.stringify({ g: claims.guildId, u: claims.discordUserId, n: claims.nonce, e: claims.expiresAt })).toString('base64url');
    return `${VERSION}.${body}.${this.mac(body).toString('base64url')}`;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.options.key).update(`${VERSION}.${body}`).digest();
  }
}

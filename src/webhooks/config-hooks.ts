import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { Secret } from '../config/secret.ts';
import type { Database } from '../db/schema.ts';
import type { Vault } from '../vault/vault.ts';
import type { PromptConfigWebhooksTable } from './tables.ts';

/** The vault purpose of a config's webhook secret; part of the ciphertext's binding. */
const WEBHOOK_SECRET_PURPOSE = 'webhook-secret';

/** 16 random bytes, base64url: the last segment of a config's payload URL. */
export const HOOK_ID = /^[A-Za-z0-9_-]{22}$/;

export interface ConfigHook {
  hookId: string;
  guildId: string;
  createdBy: string;
  createdAt: Date;
  rotatedAt: Date;
  lastDeliveryAt: Date | null;
  verifiedAt: Date | null;
}

/** What `/prompt-config webhook` shows once: the only time the secret leaves the vault for a person. */
export interface IssuedHook {
  hookId: string;
  secret: Secret;
  rotatedAt: Date;
  /** False: a new hook; true: the secret of an existing hook was replaced. */
  rotated: boolean;
}

/** A hook's secret as the route needs it; `rotatedAt` tells a cached copy from a replaced one. */
export interface HookSecret {
  guildId: string;
  secret: Secret;
  rotatedAt: number;
}

/**
 * Each guild prompt config's own webhook: an opaque id (the payload URL)
 * and a secret sealed in the vault. Issuing and rotating write the sealed
 * secret and the hook row in one transaction, so a reader never sees a new
 * secret with an old stamp or the reverse.
 */
export class ConfigHookStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
  ) {}

  /** Creates the guild's hook, or replaces its secret (the payload URL stays). Needs a config and an unlocked vault. */
  async issue(guildId: string, actorId: string, now: Date): Promise<IssuedHook> {
    const secret = randomBytes(32).toString('hex');
    const sealed = this.vault.seal(guildId, WEBHOOK_SECRET_PURPOSE, secret);
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('prompt_config_webhooks').select(['hook_id', 'rotated_at']).where('guild_id', '=', guildId).forUpdate().executeTakeFirst();
      await trx
        .insertInto('secrets')
        .values({ guild_id: guildId, purpose: WEBHOOK_SECRET_PURPOSE, key_id: sealed.keyId, aad: sealed.aad, nonce: sealed.nonce, ciphertext: sealed.ciphertext, created_by: actorId, created_at: now, updated_at: now })
        .onConflict((oc) =>
          oc.columns(['guild_id', 'purpose']).doUpdateSet({ key_id: sealed.keyId, aad: sealed.aad, nonce: sealed.nonce, ciphertext: sealed.ciphertext, created_by: actorId, updated_at: now }),
        )
        .execute();
      let hookId: string;
      let rotatedAt: Date;
      if (existing === undefined) {
        hookId = newHookId();
        await trx
          .insertInto('prompt_config_webhooks')
          .values({ hook_id: hookId, guild_id: guildId, created_by: actorId, created_at: now, rotated_at: now })
          .execute();
        rotatedAt = now;
      } else {
        hookId = existing.hook_id;
        // The stamp must change with every rotation (verifiers compare it), even within one millisecond.
        rotatedAt = new Date(Math.max(now.getTime(), new Date(existing.rotated_at).getTime() + 1));
        await trx.updateTable('prompt_config_webhooks').set({ rotated_at: rotatedAt, verified_at: null }).where('hook_id', '=', hookId).execute();
      }
      return { hookId, secret: new Secret(secret), rotatedAt, rotated: existing !== undefined };
    });
  }

  /** The guild's hook (never its secret), for status. */
  async forGuild(guildId: string): Promise<ConfigHook | undefined> {
    const row = await this.db.selectFrom('prompt_config_webhooks').selectAll().where('guild_id', '=', guildId).executeTakeFirst();
    return row === undefined ? undefined : toHook(row);
  }

  async byId(hookId: string): Promise<ConfigHook | undefined> {
    const row = await this.db.selectFrom('prompt_config_webhooks').selectAll().where('hook_id', '=', hookId).executeTakeFirst();
    return row === undefined ? undefined : toHook(row);
  }

  /** Undefined for an unknown id (or a hook whose secret is gone); throws when the vault cannot open it. */
  async secretFor(hookId: string): Promise<HookSecret | undefined> {
    const row = await this.db
      .selectFrom('prompt_config_webhooks as h')
      .innerJoin('secrets as s', (join) => join.onRef('s.guild_id', '=', 'h.guild_id').on('s.purpose', '=', WEBHOOK_SECRET_PURPOSE))
      .select(['h.guild_id', 'h.rotated_at', 's.key_id', 's.aad', 's.nonce', 's.ciphertext'])
      .where('h.hook_id', '=', hookId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const secret = this.vault.open(row.guild_id, WEBHOOK_SECRET_PURPOSE, { keyId: row.key_id, aad: row.aad, nonce: row.nonce, ciphertext: row.ciphertext });
    return { guildId: row.guild_id, secret, rotatedAt: new Date(row.rotated_at).getTime() };
  }

  /** When the hook's secret was last replaced; undefined once the hook is gone. */
  async rotatedAt(hookId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('prompt_config_webhooks').select('rotated_at').where('hook_id', '=', hookId).executeTakeFirst();
    return row === undefined ? undefined : new Date(row.rotated_at).getTime();
  }

  /** A verified delivery arrived; `verified`: it proved the config's repository sends to this hook (ping or push). */
  async recordDelivery(hookId: string, at: Date, verified: boolean): Promise<void> {
    await this.db
      .updateTable('prompt_config_webhooks')
      .set(verified ? { last_delivery_at: at, verified_at: at } : { last_delivery_at: at })
      .where('hook_id', '=', hookId)
      .execute();
  }

  /** Deletes the hook and its secret; true when there was one. */
  async remove(guildId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('prompt_config_webhooks').where('guild_id', '=', guildId).executeTakeFirst();
      await trx.deleteFrom('secrets').where('guild_id', '=', guildId).where('purpose', '=', WEBHOOK_SECRET_PURPOSE).execute();
      return Number(deleted.numDeletedRows) > 0;
    });
  }
}

function newHookId(): string {
  return randomBytes(16).toString('base64url');
}

function toHook(row: Selectable<PromptConfigWebhooksTable>): ConfigHook {
  return {
    hookId: row.hook_id,
    guildId: row.guild_id,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    rotatedAt: new Date(row.rotated_at),
    lastDeliveryAt: row.last_delivery_at === null ? null : new Date(row.last_delivery_at),
    verifiedAt: row.verified_at === null ? null : new Date(row.verified_at),
  };
}

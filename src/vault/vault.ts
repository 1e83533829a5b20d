import type { Kysely } from 'kysely';
import { Secret } from '../config/secret.ts';
import type { Database } from '../db/schema.ts';
import type { Keyring } from './keyring.ts';
import type { Sodium } from './sodium.ts';

/** What a stored secret is for; part of the binding, so a ciphertext cannot be reused for another purpose. */
type SecretPurpose = string;

type DecryptFailure = 'wrong-guild' | 'wrong-purpose' | 'tampered' | 'unknown-key';

const FAILURE_TEXT: Record<DecryptFailure, string> = {
  'wrong-guild': 'it was sealed for another guild',
  'wrong-purpose': 'it was sealed for another purpose',
  tampered: 'it was altered or is corrupt',
  'unknown-key': 'it was sealed with a master key that is not configured',
};

/** Never carries ciphertext or plaintext: only where and why. */
export class VaultDecryptError extends Error {
  override readonly name = 'VaultDecryptError';
  constructor(
    readonly reason: DecryptFailure,
    readonly guildId: string,
    readonly purpose: string,
    readonly keyId: string,
  ) {
    super(`cannot decrypt the ${purpose} secret of guild ${guildId}: ${FAILURE_TEXT[reason]} (key id "${keyId}")`);
  }
}

export class VaultLockedError extends Error {
  override readonly name = 'VaultLockedError';
  constructor() {
    super(
      'secrets cannot be stored: no master key is configured. Generate one with `npm run recap -- keys generate` ' +
        'and set RECAP_MASTER_KEYS to its output, then restart.',
    );
  }
}

interface SealedSecret {
  keyId: string;
  aad: string;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export interface SecretMetadata {
  guildId: string;
  purpose: string;
  keyId: string;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The authenticated binding of a ciphertext: which guild and what for. */
function bindingFor(guildId: string, purpose: SecretPurpose): string {
  return `guild:${guildId}/${purpose}`;
}

/**
 * Per-guild secrets encrypted at rest with XChaCha20-Poly1305. The guild and
 * purpose are the additional data, so a ciphertext copied to another row
 * fails to open. Plaintext is only ever handed out as a `Secret`.
 */
export class Vault {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sodium: Sodium,
    private readonly keyring: Keyring | undefined,
  ) {}

  get locked(): boolean {
    return this.keyring === undefined;
  }

  seal(guildId: string, purpose: SecretPurpose, plaintext: string): SealedSecret {
    if (this.keyring === undefined) throw new VaultLockedError();
    const { id, key } = this.keyring.current;
    const aad = bindingFor(guildId, purpose);
    const nonce = this.sodium.randombytes_buf(this.sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const message = this.sodium.from_string(plaintext);
    try {
      const ciphertext = this.sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, aad, null, nonce, key);
      return { keyId: id, aad, nonce, ciphertext };
    } finally {
      this.sodium.memzero(message);
    }
  }

  open(guildId: string, purpose: SecretPurpose, sealed: SealedSecret): Secret {
    const expected = bindingFor(guildId, purpose);
    // The stored binding is authenticated with the ciphertext; when it names
    // another guild or purpose we can say which, before any crypto runs.
    if (sealed.aad !== expected) {
      const [sealedGuild] = sealed.aad.split('/', 1);
      const reason: DecryptFailure = sealedGuild === `guild:${guildId}` ? 'wrong-purpose' : 'wrong-guild';
      throw new VaultDecryptError(reason, guildId, purpose, sealed.keyId);
    }
    const key = this.keyring?.get(sealed.keyId);
    if (key === undefined) throw new VaultDecryptError('unknown-key', guildId, purpose, sealed.keyId);
    let plain: Uint8Array;
    try {
      plain = this.sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.ciphertext, expected, sealed.nonce, key);
    } catch {
      throw new VaultDecryptError('tampered', guildId, purpose, sealed.keyId);
    }
    try {
      return new Secret(this.sodium.to_string(plain));
    } finally {
      this.sodium.memzero(plain);
    }
  }

  async put(guildId: string, purpose: SecretPurpose, plaintext: string, actorId: string | null): Promise<void> {
    const sealed = this.seal(guildId, purpose, plaintext);
    const now = new Date();
    // A replaced secret keeps its row's key and first creation time; everything else is the new one's.
    const replacement = { key_id: sealed.keyId, aad: sealed.aad, nonce: sealed.nonce, ciphertext: sealed.ciphertext, created_by: actorId, updated_at: now };
    await this.db
      .insertInto('secrets')
      .values({ guild_id: guildId, purpose, created_at: now, ...replacement })
      .onConflict((oc) => oc.columns(['guild_id', 'purpose']).doUpdateSet(replacement))
      .execute();
  }

  /** Undefined when no secret is stored; throws VaultDecryptError when one is stored but cannot be opened. */
  async get(guildId: string, purpose: SecretPurpose): Promise<Secret | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select(['key_id', 'aad', 'nonce', 'ciphertext'])
      .where('guild_id', '=', guildId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    if (this.keyring === undefined) throw new VaultLockedError();
    return this.open(guildId, purpose, { keyId: row.key_id, aad: row.aad, nonce: row.nonce, ciphertext: row.ciphertext });
  }

  async metadata(guildId: string, purpose: SecretPurpose): Promise<SecretMetadata | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select(['guild_id', 'purpose', 'key_id', 'created_by', 'created_at', 'updated_at'])
      .where('guild_id', '=', guildId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      guildId: row.guild_id,
      purpose: row.purpose,
      keyId: row.key_id,
      createdBy: row.created_by,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
    };
  }

  async delete(guildId: string, purpose?: SecretPurpose): Promise<number> {
    let query = this.db.deleteFrom('secrets').where('guild_id', '=', guildId);
    if (purpose !== undefined) query = query.where('purpose', '=', purpose);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

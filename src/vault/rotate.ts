import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Vault } from './vault.ts';
import { VaultDecryptError } from './vault.ts';

interface RotationOptions {
  batchSize: number;
  /** Called after each batch; throwing here (or aborting) stops the run, which a rerun resumes. */
  onBatch?: (progress: RotationProgress) => void | Promise<void>;
  signal?: AbortSignal;
}

interface RotationProgress {
  rotated: number;
  unchanged: number;
  failed: Array<{ guildId: string; purpose: string; reason: string }>;
}

/**
 * Re-encrypts every secret not yet on the current key. Each row is replaced
 * in one conditional UPDATE, so readers always see either the old sealed
 * value (still decryptable: old keys stay in the keyring) or the new one, and
 * an interrupted run loses nothing: a rerun picks up whatever is still on an
 * old key.
 */
export async function rotateSecrets(
  db: Kysely<Database>,
  vault: Vault,
  currentKeyId: string,
  options: RotationOptions,
): Promise<RotationProgress> {
  const progress: RotationProgress = { rotated: 0, unchanged: 0, failed: [] };
  let after: { guildId: string; purpose: string } | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    let query = db
      .selectFrom('secrets')
      .select(['guild_id', 'purpose', 'key_id', 'aad', 'nonce', 'ciphertext'])
      .where('key_id', '<>', currentKeyId)
      .orderBy('guild_id')
      .orderBy('purpose')
      .limit(options.batchSize);
    if (after !== undefined) {
      const cursor = after;
      query = query.where((eb) =>
        eb.or([
          eb('guild_id', '>', cursor.guildId),
          eb.and([eb('guild_id', '=', cursor.guildId), eb('purpose', '>', cursor.purpose)]),
        ]),
      );
    }
    const rows = await query.execute();
    if (rows.length === 0) return progress;
    for (const row of rows) {
      try {
        const plain = vault.open(row.guild_id, row.purpose, {
          keyId: row.key_id,
          aad: row.aad,
          nonce: row.nonce,
          ciphertext: row.ciphertext,
        });
        const sealed = vault.seal(row.guild_id, row.purpose, plain.reveal());
        const result = await db
          .updateTable('secrets')
          .set({ key_id: sealed.keyId, aad: sealed.aad, nonce: sealed.nonce, ciphertext: sealed.ciphertext, updated_at: new Date() })
          .where('guild_id', '=', row.guild_id)
          .where('purpose', '=', row.purpose)
          .where('key_id', '=', row.key_id)
          .where('nonce', '=', row.nonce)
          .executeTakeFirst();
        // Zero rows: someone stored a new value meanwhile, already on the current key.
        if (Number(result.numUpdatedRows) === 1) progress.rotated += 1;
        else progress.unchanged += 1;
      } catch (error) {
        if (!(error instanceof VaultDecryptError)) throw error;
        progress.failed.push({ guildId: row.guild_id, purpose: row.purpose, reason: error.message });
      }
    }
    const last = rows[rows.length - 1];
    if (last !== undefined) after = { guildId: last.guild_id, purpose: last.purpose };
    await options.onBatch?.(progress);
  }
}

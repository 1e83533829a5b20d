import type { Config } from '../config/env.ts';
import type { Secret } from '../config/secret.ts';

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

interface MasterKey {
  id: string;
  key: Uint8Array;
}

export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

/**
 * The master keys from RECAP_MASTER_KEYS: `id:base64` entries separated by
 * commas or whitespace. The first encrypts; every key decrypts, so a new key
 * can be put first and old ciphertexts stay readable until rotation.
 */
export class Keyring {
  private readonly byId: ReadonlyMap<string, Uint8Array>;

  private constructor(readonly keys: readonly MasterKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get current(): MasterKey {
    // parse() guarantees at least one key.
    return this.keys[0] as MasterKey;
  }

  get(id: string): Uint8Array | undefined {
    return this.byId.get(id);
  }

  static parse(value: Secret): Keyring {
    const text = value.reveal().trim();
    const entries = text.split(/[\s,]+/).filter((e) => e !== '');
    if (entries.length === 0) throw new KeyringError('RECAP_MASTER_KEYS: no keys given');
    const keys: MasterKey[] = [];
    const seen = new Set<string>();
    entries.forEach((entry, index) => {
      const position = `RECAP_MASTER_KEYS entry ${index + 1}`;
      const colon = entry.indexOf(':');
      if (colon <= 0) {
        throw new KeyringError(`${position}: expected id:base64key (generate one with: npm run recap -- keys generate)`);
      }
      const id = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!KEY_ID.test(id)) {
        throw new KeyringError(`${position}: key id must be 1-32 letters, digits, _ or - (got ${JSON.stringify(id.slice(0, 40))})`);
      }
      if (seen.has(id)) throw new KeyringError(`${position}: duplicate key id "${id}"; every key needs its own id`);
      seen.add(id);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
        throw new KeyringError(`${position} ("${id}"): the key is not valid base64`);
      }
      const key = new Uint8Array(Buffer.from(encoded, 'base64'));
      if (key.length !== KEY_BYTES) {
        throw new KeyringError(`${position} ("${id}"): the key must be ${KEY_BYTES} bytes, got ${key.length}`);
      }
      keys.push({ id, key });
    });
    return new Keyring(keys);
  }
}

/** The configured RECAP_MASTER_KEYS; undefined when unset (secret storage off). */
export function keyringFrom(config: Pick<Config, 'masterKeys'>): Keyring | undefined {
  return config.masterKeys === undefined ? undefined : Keyring.parse(config.masterKeys);
}

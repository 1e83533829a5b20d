/**
 * The shape of an API key, `rk_<prefix id>_<secret>`: the prefix id is
 * public (it finds the key's row), the secret is 256 random bits of which
 * only the sha-256 is kept.
 *
 * Why sha-256 and not argon2: a slow hash buys time against guessing a
 * low-entropy password. A 256-bit random secret cannot be guessed, fast
 * hash or not, while argon2 would make every request, including a
 * stranger's with a made-up key, cost tens of milliseconds of CPU and
 * megabytes of memory before it is refused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const PREFIX_LENGTH = 12;
const SECRET_BYTES = 32;
const KEY_PATTERN = /^rk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;

export interface KeyParts {
  prefixId: string;
  secret: string;
}

export function newKey(): KeyParts & { key: string } {
  const bytes = randomBytes(PREFIX_LENGTH);
  const prefixId = [...bytes].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { prefixId, secret, key: `rk_${prefixId}_${secret}` };
}

/** Undefined for anything that is not a whole key (a short or malformed one is refused the same way as a wrong one). */
export function parseKey(presented: string): KeyParts | undefined {
  const match = KEY_PATTERN.exec(presented);
  if (match === null) return undefined;
  return { prefixId: match[1]!, secret: match[2]! };
}

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time over equal-length sha-256 digests. */
export function digestsEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

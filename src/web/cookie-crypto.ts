import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.ts';

/**
 * Keys for the dashboard's cookies, derived from RECAP_SESSION_SECRET (one
 * key per use): an HMAC that signs session ids, and AES-256-GCM that seals
 * the short-lived OAuth login state (state and PKCE verifier).
 */
export interface CookieCrypto {
  /** `value.signature` */
  sign(value: string): string;
  /** The value when the signature is right (compared in constant time), else undefined. */
  verify(signed: string): string | undefined;
  seal(plaintext: string): string;
  open(sealed: string): string | undefined;
}

export function createCookieCrypto(secret: Secret): CookieCrypto {
  const ikm = Buffer.from(secret.reveal(), 'utf8');
  const macKey = Buffer.from(hkdfSync('sha256', ikm, 'recap-web', 'session-id-mac', 32));
  const sealKey = Buffer.from(hkdfSync('sha256', ikm, 'recap-web', 'login-state-seal', 32));
  const mac = (value: string): Buffer => createHmac('sha256', macKey).update(value).digest();
  return {
    sign: (value) => `${value}.${mac(value).toString('base64url')}`,
    verify(signed) {
      const dot = signed.lastIndexOf('.');
      if (dot <= 0 || signed.length > 512) return undefined;
      const value = signed.slice(0, dot);
      const given = Buffer.from(signed.slice(dot + 1), 'base64url');
      const expected = mac(value);
      return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
    },
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed) {
      if (sealed.length > 2048) return undefined;
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < 29) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', sealKey, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Two tokens compared in constant time (as equal-length digests). */
export function sameToken(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

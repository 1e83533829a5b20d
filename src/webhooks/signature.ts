import { Webhooks } from '@octokit/webhooks';
import type { Secret } from '../config/secret.ts';

export type SignatureCheck = (rawBody: Buffer, header: string | undefined) => Promise<boolean>;

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/** Whether the header could be a signature at all (checked before any look-up). */
export function isSignatureHeader(header: string | undefined): header is string {
  return header !== undefined && SIGNATURE.test(header);
}

/**
 * Checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) with
 * @octokit/webhooks, which compares in constant time. GitHub signs the
 * bytes it sends, which are UTF-8 JSON, so the decoded text re-encodes to
 * the same bytes; a body that is not valid UTF-8 simply fails the check.
 */
export function createSignatureCheck(secret: Secret): SignatureCheck {
  const webhooks = new Webhooks({ secret: secret.reveal() });
  return async (rawBody, header) => {
    if (header === undefined || !SIGNATURE.test(header) || rawBody.length === 0) return false;
    try {
      return await webhooks.verify(rawBody.toString('utf8'), header);
    } catch {
      return false;
    }
  };
}

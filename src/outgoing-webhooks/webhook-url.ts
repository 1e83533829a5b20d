/**
 * Checks an outgoing webhook URL and pins it to addresses that passed the
 * address policy: the host is resolved once, EVERY address it resolves to is
 * checked, and the connection later goes to the checked address (never to a
 * second resolution, which a rebinding DNS server could answer differently).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusedAddress } from './address-policy.ts';

export const MAX_WEBHOOK_URL_LENGTH = 2_048;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (dns.lookup by default; tests pass their own). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: ResolveHost = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/** A webhook target that may be connected to: the URL, and the address to connect to. */
export interface PinnedTarget {
  url: URL;
  /** The host name, for TLS (SNI and the certificate check) and the Host header. */
  hostname: string;
  address: ResolvedAddress;
}

/** A URL or address the policy refuses; never retried. The message names no path or query (they may hold a token). */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
}

/** The host did not resolve this time; a later attempt may do better. */
export class WebhookResolveError extends Error {
  override readonly name = 'WebhookResolveError';
}

/**
 * Checks the URL's form, and a host written as an IP address against the
 * address policy; the same checks run when settings are validated and before
 * each delivery (a host name's addresses are checked when it is resolved).
 */
export function parseWebhookUrl(raw: string, options: { allowLoopback?: boolean } = {}): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw new WebhookRefusedError(`the webhook URL is ${raw.length} characters long; the most accepted is ${MAX_WEBHOOK_URL_LENGTH}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookRefusedError('the webhook URL is not a valid URL');
  }
  if (url.protocol !== 'https:') throw new WebhookRefusedError(`the webhook URL must use https (got ${url.protocol.replace(/:$/, '')})`);
  if (url.username !== '' || url.password !== '') throw new WebhookRefusedError('the webhook URL must not carry a user name or password');
  if (url.hostname === '') throw new WebhookRefusedError('the webhook URL has no host');
  const host = bare(url.hostname);
  if (isIP(host) !== 0) {
    const why = allowed(host, options.allowLoopback === true);
    if (why !== undefined) throw new WebhookRefusedError(`the webhook URL names ${why}; only public addresses are allowed`);
  }
  return url;
}

export interface PinOptions {
  resolve?: ResolveHost;
  /** Test-only: loopback addresses pass (the test receiver listens on 127.0.0.1). */
  allowLoopback?: boolean;
}

/**
 * @throws WebhookRefusedError when the URL or any address its host resolves to is refused;
 * WebhookResolveError when the host does not resolve.
 */
export async function pinWebhookTarget(raw: string, options: PinOptions = {}): Promise<PinnedTarget> {
  const allowLoopback = options.allowLoopback === true;
  const url = parseWebhookUrl(raw, { allowLoopback });
  const hostname = bare(url.hostname);
  const family = isIP(hostname);
  // An address in the URL was checked by parseWebhookUrl.
  if (family !== 0) return { url, hostname, address: { address: hostname, family: family === 6 ? 6 : 4 } };
  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.resolve ?? systemResolve)(hostname);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new WebhookResolveError(`the webhook host ${hostname} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const first = addresses[0];
  if (first === undefined) throw new WebhookRefusedError(`the webhook host ${hostname} resolves to no address`);
  for (const { address } of addresses) {
    const why = allowed(address, allowLoopback);
    if (why !== undefined) throw new WebhookRefusedError(`the webhook host ${hostname} resolves to ${why}; only public addresses are allowed`);
  }
  return { url, hostname, address: first };
}

/** `[::1]` → `::1`. */
function bare(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function allowed(address: string, allowLoopback: boolean): string | undefined {
  if (allowLoopback && (address === '127.0.0.1' || address === '::1')) return undefined;
  return refusedAddress(address);
}

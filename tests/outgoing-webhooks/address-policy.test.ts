import { describe, expect, it } from 'vitest';
import { refusedAddress } from '../../src/outgoing-webhooks/address-policy.ts';
import { pinWebhookTarget, WebhookRefusedError, WebhookResolveError } from '../../src/outgoing-webhooks/webhook-url.ts';
import { rejectionOf } from '../helpers/thrown.ts';

const refused = (error: unknown): error is WebhookRefusedError => error instanceof WebhookRefusedError;
const thrown = (run: () => Promise<unknown>): Promise<WebhookRefusedError> => rejectionOf(run(), refused);

describe('outgoing webhook address policy', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['169.254.169.254', 'link-local (metadata)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'non-public (unspecified)'],
    ['255.255.255.255', 'non-public (broadcast)'],
    ['192.0.2.10', 'non-public (reserved)'],
    ['::1', 'loopback'],
    ['::', 'non-public (unspecified)'],
    ['fe80::1', 'link-local (metadata)'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local (metadata)'],
    ['64:ff9b::7f00:1', 'non-public (rfc6052)'],
    ['2002:7f00:1::1', 'non-public (6to4)'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'non-public (teredo)'],
  ])('refuses %s as %s', (address, kind) => {
    expect(refusedAddress(address)).toContain(kind);
  });

  it.each(['1.1.1.1', '162.159.128.233', '2606:4700:4700::1111', '::ffff:1.1.1.1'])('allows the public address %s', (address) => {
    expect(refusedAddress(address)).toBeUndefined();
  });

  it('refuses what is not an address', () => {
    expect(refusedAddress('localhost')).toBe('"localhost", not an IP address');
  });
});

describe('pinning a webhook URL', () => {
  it.each([
    ['http://hooks.example/x', 'the webhook URL must use https (got http)'],
    ['ftp://hooks.example/x', 'the webhook URL must use https (got ftp)'],
    ['https://user:secret@hooks.example/x', 'the webhook URL must not carry a user name or password'],
    ['not a url', 'the webhook URL is not a valid URL'],
    [`https://hooks.example/${'a'.repeat(2_100)}`.slice(0, 2_122), 'the webhook URL is 2122 characters long; the most accepted is 2048'],
    ['https://127.0.0.1/api/webhooks/1/token', 'the webhook URL names 127.0.0.1, a loopback address; only public addresses are allowed'],
    ['https://[::ffff:127.0.0.1]/api/webhooks/1/token', 'the webhook URL names 127.0.0.1, a loopback address; only public addresses are allowed'],
    ['https://[::1]:8443/x', 'the webhook URL names ::1, a loopback address; only public addresses are allowed'],
    ['https://169.254.169.254/latest/meta-data', 'the webhook URL names 169.254.169.254, a link-local (metadata) address; only public addresses are allowed'],
  ])('refuses %#: %s', async (url, message) => {
    const error = await thrown(() => pinWebhookTarget(url));
    expect(error.message).toBe(message);
    // The path may hold a token: it is never repeated.
    expect(error.message).not.toContain('token');
  });

  it('refuses localhost through the system resolver', async () => {
    const error = await thrown(() => pinWebhookTarget('https://localhost/api/webhooks/1/token'));
    expect(error.message).toMatch(/^the webhook host localhost resolves to (127\.0\.0\.1|::1), a loopback address; only public addresses are allowed$/);
  });

  it('refuses a host name when any one of its addresses is not public, and pins the checked address otherwise', async () => {
    const mixed = await thrown(() =>
      pinWebhookTarget('https://hooks.example/x', {
        resolve: async () => [
          { address: '93.184.215.14', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ],
      }),
    );
    expect(mixed.message).toBe('the webhook host hooks.example resolves to 10.0.0.7, a private address; only public addresses are allowed');

    const pinned = await pinWebhookTarget('https://hooks.example:8443/x?y=1', { resolve: async () => [{ address: '93.184.215.14', family: 4 }] });
    expect(pinned).toMatchObject({ hostname: 'hooks.example', address: { address: '93.184.215.14', family: 4 } });
  });

  it('refuses a host name that resolves to 127.0.0.1 or ::ffff:127.0.0.1 unless the test-only loopback switch is on', async () => {
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1']) {
      const family = address.includes(':') ? 6 : 4;
      const error = await thrown(() => pinWebhookTarget('https://rebind.example/x', { resolve: async () => [{ address, family }] }));
      expect(error.message).toBe('the webhook host rebind.example resolves to 127.0.0.1, a loopback address; only public addresses are allowed');
    }
    // Even with the switch, only 127.0.0.1 and ::1 pass, not the mapped form.
    const mapped = await thrown(() => pinWebhookTarget('https://rebind.example/x', { allowLoopback: true, resolve: async () => [{ address: '::ffff:127.0.0.1', family: 6 }] }));
    expect(mapped).toBeInstanceOf(WebhookRefusedError);
  });

  it('says when a host does not resolve', async () => {
    const error = await rejectionOf(
      pinWebhookTarget('https://nowhere.example/x', {
        resolve: async () => {
          throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
        },
      }),
      (e): e is WebhookResolveError => e instanceof WebhookResolveError,
    );
    expect(error.message).toBe('the webhook host nowhere.example could not be resolved (ENOTFOUND)');
  });
});

/**
 * Deliveries to a real HTTPS receiver on 127.0.0.1, reached by a host name
 * no DNS server knows (`hooks.test`): the only way there is the pinned,
 * checked address. Loopback and the receiver's CA are let in through the
 * test-only option; without it the same URL is refused before connecting.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDelivery, type WebhookDeliveryOptions } from '../../src/outgoing-webhooks/deliver.ts';
import type { ResolveHost } from '../../src/outgoing-webhooks/webhook-url.ts';
import { makeCertificate, RECEIVER_HOST, startHttpsReceiver, type HttpsReceiver } from '../helpers/https-receiver.ts';

let certificate: { key: Buffer; cert: Buffer };
let receiver: HttpsReceiver;
let lookups: string[];

const toReceiver: ResolveHost = async (hostname) => {
  lookups.push(hostname);
  // A second answer different from the first would be a rebinding attempt; the delivery must never ask twice per attempt.
  return hostname === RECEIVER_HOST ? [{ address: '127.0.0.1', family: 4 }] : [];
};

beforeAll(async () => {
  certificate = await makeCertificate();
});

afterEach(async () => {
  await receiver?.close();
});

async function setUp(options: Partial<WebhookDeliveryOptions> = {}) {
  receiver = await startHttpsReceiver(certificate);
  lookups = [];
  const sleeps: number[] = [];
  const delivery = createWebhookDelivery({
    resolve: toReceiver,
    unsafeTestOnly: { ca: receiver.ca, allowLoopback: true },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
    backoffBaseMs: 100,
    backoffMaxMs: 1_000,
    ...options,
  });
  return { delivery, sleeps };
}

describe('webhook delivery', () => {
  it('posts the JSON to the checked address, with TLS verified for the host name', async () => {
    const { delivery } = await setUp();
    const result = await delivery.deliver(receiver.url('/api/webhooks/1/secret-token?wait=true'), { content: 'hello' });
    expect(result).toEqual({ ok: true, attempts: 1, status: 204 });
    expect(receiver.received).toEqual([{ method: 'POST', url: '/api/webhooks/1/secret-token?wait=true', host: `${RECEIVER_HOST}:${receiver.port}`, body: '{"content":"hello"}' }]);
    expect(lookups).toEqual([RECEIVER_HOST]);
  });

  it('refuses the receiver in the default configuration: loopback by name, by address and as ::ffff:127.0.0.1', async () => {
    receiver = await startHttpsReceiver(certificate);
    const delivery = createWebhookDelivery({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    for (const url of [
      receiver.url('/x'),
      `https://127.0.0.1:${receiver.port}/x`,
      `https://[::ffff:127.0.0.1]:${receiver.port}/x`,
    ]) {
      const result = await delivery.deliver(url, { content: 'x' });
      expect(result).toMatchObject({ ok: false, attempts: 0, permanent: true });
      expect(!result.ok && result.reason).toMatch(/(resolves to|URL names) 127\.0\.0\.1, a loopback address; only public addresses are allowed$/);
    }
    // localhost through the real resolver.
    const real = await createWebhookDelivery().deliver(`https://localhost:${receiver.port}/x`, {});
    expect(!real.ok && real.reason).toMatch(/^the webhook host localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(receiver.received).toHaveLength(0);
  });

  it('does not trust the receiver\'s certificate without the test CA', async () => {
    const { delivery } = await setUp({ unsafeTestOnly: { allowLoopback: true }, maxAttempts: 1 });
    const result = await delivery.deliver(receiver.url('/x'), {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/self.signed certificate/i);
  });

  it('retries 5xx and 429 with growing backoff, honouring Retry-After up to the cap, then delivers', async () => {
    const { delivery, sleeps } = await setUp();
    receiver.replies.push({ status: 503 }, { status: 429, headers: { 'retry-after': '0.5' } }, { status: 500 }, { status: 200 });
    const result = await delivery.deliver(receiver.url('/x'), { n: 1 });
    expect(result).toEqual({ ok: true, attempts: 4, status: 200 });
    expect(receiver.received).toHaveLength(4);
    // Full jitter with random() = 1: the ceiling, 100 · 2^n; Retry-After 0.5 s lifts the second wait to 500 ms.
    expect(sleeps).toEqual([100, 500, 400]);
    expect(lookups).toHaveLength(4);
  });

  it('gives up after max_attempts, saying why without the URL\'s path', async () => {
    const { delivery, sleeps } = await setUp({ maxAttempts: 3 });
    receiver.replies.push({ status: 502 }, { status: 502 }, { status: 502 });
    const result = await delivery.deliver(receiver.url('/api/webhooks/1/secret-token'), {});
    expect(result).toEqual({ ok: false, attempts: 3, permanent: false, reason: `gave up after 3 attempts: ${RECEIVER_HOST} answered 502` });
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    const { delivery } = await setUp();
    receiver.replies.push({ status: 404 });
    expect(await delivery.deliver(receiver.url('/x'), {})).toEqual({ ok: false, attempts: 1, permanent: true, reason: `${RECEIVER_HOST} answered 404` });
  });

  it('cuts off an attempt the receiver never answers', async () => {
    const { delivery } = await setUp({ timeoutMs: 300, maxAttempts: 2 });
    receiver.replies.push('hang', 'hang');
    const started = Date.now();
    const result = await delivery.deliver(receiver.url('/x'), {});
    expect(result).toEqual({ ok: false, attempts: 2, permanent: false, reason: `gave up after 2 attempts: ${RECEIVER_HOST} did not answer within 300 ms` });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('opens its breaker after repeated failures, and then fails at once without calling the receiver', async () => {
    const { delivery } = await setUp({ maxAttempts: 2, breaker: { failureThreshold: 2, coolDownMs: 60_000 } });
    receiver.replies.push({ status: 500 }, { status: 500 });
    expect(await delivery.deliver(receiver.url('/x'), {})).toMatchObject({ ok: false, attempts: 2 });
    const second = await delivery.deliver(receiver.url('/x'), {});
    expect(second).toMatchObject({ ok: false, attempts: 0, permanent: false });
    expect(!second.ok && second.reason).toMatch(new RegExp(`^the circuit for ${RECEIVER_HOST} is open after repeated failures; it lets a delivery through again at \\d{4}-`));
    expect(receiver.received).toHaveLength(2);
  });

  it('retries a host that did not resolve, and delivers once it does', async () => {
    let failures = 1;
    const { delivery, sleeps } = await setUp({
      resolve: async (hostname) => {
        lookups.push(hostname);
        if (failures-- > 0) throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    expect(await delivery.deliver(receiver.url('/x'), {})).toEqual({ ok: true, attempts: 2, status: 204 });
    expect(sleeps).toEqual([100]);
  });

  it('refuses a payload over the size bound', async () => {
    const { delivery } = await setUp({ maxBodyBytes: 100 });
    expect(await delivery.deliver(receiver.url('/x'), { text: 'x'.repeat(200) })).toEqual({ ok: false, attempts: 0, permanent: true, reason: 'the payload is 211 bytes; the most sent is 100' });
  });
});

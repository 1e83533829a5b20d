import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingConfirmations, confirmationKind } from '../../src/discord/shared/pending-confirmations.ts';

const save = confirmationKind<{ repo: string }>('test:save', 120_000);
const remove = confirmationKind<{ label: string }>('test:remove', 60_000);
const owner = { ownerId: '1', guildId: '2' };

describe('confirmations waiting for a click', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answer once, and only to the kind that opened them', () => {
    const store = new PendingConfirmations();
    const nonce = store.open(save, { ...owner, data: { repo: 'acme/prompts' } }, async () => undefined);
    expect(nonce).toMatch(/^[0-9a-f]{16}$/);
    // A nonce from another confirmation's button finds nothing.
    expect(store.peek(remove, nonce)).toBeUndefined();
    expect(store.take(remove, nonce)).toBeUndefined();
    expect(store.peek(save, nonce)?.data.repo).toBe('acme/prompts');
    expect(store.take(save, nonce)?.data.repo).toBe('acme/prompts');
    expect(store.take(save, nonce)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('expire after their kind’s time, once, and then find nothing', async () => {
    const store = new PendingConfirmations();
    const expired: string[] = [];
    const kept = store.open(save, { ...owner, data: { repo: 'kept' } }, async ({ data }) => void expired.push(data.repo));
    const gone = store.open(remove, { ...owner, data: { label: 'gone' } }, async ({ data }) => void expired.push(data.label));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(expired).toEqual(['gone']);
    expect(store.take(remove, gone)).toBeUndefined();
    expect(store.peek(save, kept)?.data.repo).toBe('kept');
    // Taken before its time: its expiry never runs.
    store.take(save, kept);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(expired).toEqual(['gone']);
  });
});

import { describe, expect, it } from 'vitest';
import { HookLookupBusyError, HookSecretCache } from '../../src/webhooks/hook-secret-cache.ts';

/** A loader that answers when told to, and counts what it was asked. */
function gatedLoader(known: Record<string, string>) {
  const asked: string[] = [];
  const gates: Array<() => void> = [];
  const load = (id: string): Promise<{ guildId: string } | undefined> => {
    asked.push(id);
    return new Promise((resolve) => gates.push(() => resolve(known[id] === undefined ? undefined : { guildId: known[id] as string })));
  };
  return { asked, load, open: () => gates.splice(0).forEach((g) => g()) };
}

const options = { max: 100, ttlMs: 60_000, negativeTtlMs: 60_000, maxConcurrentMisses: 2 };

describe('HookSecretCache: the database work strangers can cause', () => {
  it('remembers unknown ids too: a flood of one unknown id is one look-up', async () => {
    const loader = gatedLoader({});
    const cache = new HookSecretCache(loader.load, options);
    const first = cache.get('unknown');
    loader.open();
    expect(await first).toBeUndefined();
    for (let i = 0; i < 1_000; i += 1) expect(await cache.get('unknown')).toBeUndefined();
    expect(loader.asked).toEqual(['unknown']);
  });

  it('runs one look-up per id at a time and refuses past the limit of concurrent misses', async () => {
    const loader = gatedLoader({ known: 'g1' });
    const cache = new HookSecretCache(loader.load, options);
    const same = [cache.get('known'), cache.get('known'), cache.get('known')];
    const other = cache.get('other');
    await expect(cache.get('third')).rejects.toBeInstanceOf(HookLookupBusyError);
    expect(loader.asked).toEqual(['known', 'other']);
    loader.open();
    expect(await Promise.all(same)).toEqual([{ guildId: 'g1' }, { guildId: 'g1' }, { guildId: 'g1' }]);
    expect(await other).toBeUndefined();
    // Once the misses finished, there is room again.
    const third = cache.get('third');
    loader.open();
    expect(await third).toBeUndefined();
  });

  it('forgets a guild’s ids so a rotated secret is looked up again', async () => {
    const loader = gatedLoader({ a: 'g1', b: 'g2' });
    const cache = new HookSecretCache(loader.load, options);
    const both = [cache.get('a'), cache.get('b')];
    loader.open();
    await Promise.all(both);
    cache.forgetGuild('g1');
    const again = cache.get('a');
    loader.open();
    await again;
    await cache.get('b');
    expect(loader.asked).toEqual(['a', 'b', 'a']);
  });
});

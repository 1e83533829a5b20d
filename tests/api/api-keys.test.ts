/** The API key store on PGlite and Postgres: keys shown once, found by prefix, last use at most once a minute, revocation, the per-guild bound. */
import { expect, it } from 'vitest';
import { ApiKeyLimitError, ApiKeyStore, MAX_KEYS_PER_GUILD } from '../../src/api/api-keys.ts';
import { parseKey, secretDigest } from '../../src/api/key-format.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

describeEachDatabase('API key store', (db) => {
  it('stores only the prefix and a digest; verifies the whole key; revokes', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const store = new ApiKeyStore(db().handle.db, () => now);
    const { key, info } = await store.create({ guildId: 'g-verify', name: 'ci', scopes: ['summaries:read', 'summaries:read'], createdBy: 'admin' });
    const parts = parseKey(key)!;
    expect(parts.prefixId).toBe(info.prefixId);
    const row = await db().handle.db.selectFrom('api_keys').selectAll().where('id', '=', info.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(parts.secret);
    expect(row.secret_sha256).toBe(secretDigest(parts.secret));
    expect(info.scopes).toEqual(['summaries:read']);
    expect((await store.verify(key))?.id).toBe(info.id);
    expect(await store.verify(`rk_${parts.prefixId}_${'A'.repeat(43)}`)).toBeUndefined();
    expect(await store.verify(key.slice(0, -1))).toBeUndefined();

    await store.touch(info.id);
    const first = (await store.list('g-verify'))[0]!.lastUsedAt!;
    now += 30_000;
    await store.touch(info.id);
    expect((await store.list('g-verify'))[0]!.lastUsedAt).toEqual(first);
    now += 31_000;
    await store.touch(info.id);
    expect((await store.list('g-verify'))[0]!.lastUsedAt!.getTime()).toBe(now);

    expect(await store.revoke('another-guild', info.prefixId, 'admin')).toBe(false);
    expect(await store.revoke('g-verify', key, 'admin')).toBe(true);
    expect(await store.verify(key)).toBeUndefined();
    expect(await store.revoke('g-verify', info.prefixId, 'admin')).toBe(false);
  });

  it('bounds the active keys a guild holds', async () => {
    const store = new ApiKeyStore(db().handle.db);
    for (let i = 0; i < MAX_KEYS_PER_GUILD; i++) await store.create({ guildId: 'g-many', name: `k${i}`, scopes: ['summaries:read'], createdBy: 'admin' });
    await expect(store.create({ guildId: 'g-many', name: 'one more', scopes: ['summaries:read'], createdBy: 'admin' })).rejects.toBeInstanceOf(ApiKeyLimitError);
    const [oldest] = (await store.list('g-many')).slice(-1);
    expect(await store.revoke('g-many', oldest!.prefixId, 'admin')).toBe(true);
    await expect(store.create({ guildId: 'g-many', name: 'one more', scopes: ['summaries:read'], createdBy: 'admin' })).resolves.toBeDefined();
    await expect(store.create({ guildId: 'g-other', name: 'none', scopes: [], createdBy: 'admin' })).rejects.toBeInstanceOf(RangeError);
  });
});

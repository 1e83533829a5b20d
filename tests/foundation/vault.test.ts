import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.ts';
import { Keyring, KeyringError } from '../../src/vault/keyring.ts';
import { rotateSecrets } from '../../src/vault/rotate.ts';
import { loadSodium } from '../../src/vault/sodium.ts';
import { Vault, VaultDecryptError, VaultLockedError } from '../../src/vault/vault.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

const key = (byte: number): string => Buffer.alloc(32, byte).toString('base64');
const K1 = `k1:${key(1)}`;
const K2 = `k2:${key(2)}`;

describe('keyring', () => {
  it('parses ids and keys, first one current', () => {
    const ring = Keyring.parse(new Secret(`${K2}, ${K1}`));
    expect(ring.current.id).toBe('k2');
    expect(ring.get('k1')).toHaveLength(32);
  });

  it.each([
    ['', /no keys/],
    ['nocolon', /expected id:base64key/],
    [`k1:${Buffer.alloc(16).toString('base64')}`, /must be 32 bytes, got 16/],
    ['k1:not*base64!', /not valid base64/],
    [`${K1},${K1}`, /duplicate key id "k1"/],
    [`bad.id:${key(1)}`, /key id must be/],
  ])('rejects %j with a clear message', (value, message) => {
    expect(() => Keyring.parse(new Secret(value))).toThrow(KeyringError);
    expect(() => Keyring.parse(new Secret(value))).toThrow(message);
  });

  it('never puts key material in its errors', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    try {
      Keyring.parse(new Secret(`k1:${short}`));
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });
});

describeEachDatabase('vault', (database) => {
  const open = async (keys = K1): Promise<Vault> =>
    new Vault(database().handle.db, await loadSodium(), Keyring.parse(new Secret(keys)));

  it('round-trips a secret, storing only ciphertext', async () => {
    const vault = await open();
    await vault.put('g1', 'github-token', 'ghp_plaintextvalue123', 'admin-1');
    const value = await vault.get('g1', 'github-token');
    expect(value?.reveal()).toBe('ghp_plaintextvalue123');
    expect(String(value)).toBe('[redacted]');
    const row = await database().handle.db.selectFrom('secrets').selectAll().where('guild_id', '=', 'g1').executeTakeFirstOrThrow();
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain('plaintextvalue');
    expect(row.aad).toBe('guild:g1/github-token');
    expect(row.key_id).toBe('k1');
    const meta = await vault.metadata('g1', 'github-token');
    expect(meta).toMatchObject({ keyId: 'k1', createdBy: 'admin-1' });
  });

  it('refuses a ciphertext copied to another guild or purpose, saying which', async () => {
    const vault = await open();
    await vault.put('g2', 'github-token', 'secret-of-g2', null);
    const db = database().handle.db;
    const row = await db.selectFrom('secrets').selectAll().where('guild_id', '=', 'g2').executeTakeFirstOrThrow();
    await db.insertInto('secrets').values({ ...row, guild_id: 'g3' }).execute();
    await db.insertInto('secrets').values({ ...row, purpose: 'provider-key:anthropic' }).execute();
    await expect(vault.get('g3', 'github-token')).rejects.toMatchObject({ reason: 'wrong-guild' });
    await expect(vault.get('g2', 'provider-key:anthropic')).rejects.toMatchObject({ reason: 'wrong-purpose' });
    // Rewriting the stored binding to match does not help: it is authenticated.
    await db.updateTable('secrets').set({ aad: 'guild:g3/github-token' }).where('guild_id', '=', 'g3').execute();
    const error = await vault.get('g3', 'github-token').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultDecryptError);
    expect((error as VaultDecryptError).reason).toBe('tampered');
    expect((error as Error).message).not.toContain('secret-of-g2');
  });

  it('detects tampering and unknown keys', async () => {
    const vault = await open();
    await vault.put('g4', 'github-token', 'value', null);
    const db = database().handle.db;
    const row = await db.selectFrom('secrets').selectAll().where('guild_id', '=', 'g4').executeTakeFirstOrThrow();
    const flipped = Uint8Array.from(row.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await db.updateTable('secrets').set({ ciphertext: flipped }).where('guild_id', '=', 'g4').execute();
    await expect(vault.get('g4', 'github-token')).rejects.toMatchObject({ reason: 'tampered' });
    await vault.put('g5', 'github-token', 'value', null);
    const other = await open(K2);
    await expect(other.get('g5', 'github-token')).rejects.toMatchObject({ reason: 'unknown-key', keyId: 'k1' });
  });

  it('refuses to store anything without a master key, saying how to set one', async () => {
    const locked = new Vault(database().handle.db, await loadSodium(), undefined);
    expect(locked.locked).toBe(true);
    await expect(locked.put('g6', 'github-token', 'x', null)).rejects.toThrow(VaultLockedError);
    await expect(locked.put('g6', 'github-token', 'x', null)).rejects.toThrow(/keys generate.*RECAP_MASTER_KEYS/);
  });

  it('rotates to the current key; an interrupted run is completed by a rerun with nothing lost', async () => {
    const db = database().handle.db;
    await db.deleteFrom('secrets').execute();
    const oldVault = await open(K1);
    for (let i = 0; i < 25; i++) await oldVault.put(`r${String(i).padStart(2, '0')}`, 'github-token', `token-${i}`, null);
    const newVault = await open(`${K2},${K1}`);
    const interrupted = await rotateSecrets(db, newVault, 'k2', {
      batchSize: 4,
      onBatch: (p) => {
        if (p.rotated >= 8) throw new Error('killed');
      },
    }).catch((e: unknown) => e);
    expect((interrupted as Error).message).toBe('killed');
    // Mid-rotation, readers see every secret through the keyring.
    for (let i = 0; i < 25; i++) {
      expect((await newVault.get(`r${String(i).padStart(2, '0')}`, 'github-token'))?.reveal()).toBe(`token-${i}`);
    }
    const onOld = await db.selectFrom('secrets').select('guild_id').where('key_id', '=', 'k1').execute();
    expect(onOld.length).toBe(17);
    const rerun = await rotateSecrets(db, newVault, 'k2', { batchSize: 4 });
    expect(rerun).toMatchObject({ rotated: 17, failed: [] });
    const onlyNew = await open(K2);
    for (let i = 0; i < 25; i++) {
      expect((await onlyNew.get(`r${String(i).padStart(2, '0')}`, 'github-token'))?.reveal()).toBe(`token-${i}`);
    }
  });

  it('survives `keys rotate` killed mid-run (real process, SIGKILL)', async (ctx) => {
    const { url } = database();
    if (url === undefined) {
      // An embedded PGlite directory belongs to one process, so only the real server can host this test.
      ctx.skip();
      return;
    }
    const db = database().handle.db;
    await db.deleteFrom('secrets').execute();
    const oldVault = await open(K1);
    for (let i = 0; i < 12; i++) await oldVault.put(`p${String(i).padStart(2, '0')}`, 'github-token', `token-${i}`, null);
    const env = { ...process.env, DATABASE_URL: url, RECAP_MASTER_KEYS: `${K2},${K1}`, RECAP_ROTATE_PAUSE_MS: '300', LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate', '--batch-size', '2'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        if (/rotated [4-9]/.test(String(chunk))) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const left = await db.selectFrom('secrets').select('guild_id').where('key_id', '=', 'k1').execute();
    expect(left.length).toBeGreaterThan(0);
    const rerun = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'rotate'], {
      env: { ...env, RECAP_ROTATE_PAUSE_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    rerun.stdout.on('data', (c: Buffer) => (out += String(c)));
    const code = await new Promise((resolve) => rerun.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`rotated ${left.length} secret`));
    const onlyNew = await open(K2);
    for (let i = 0; i < 12; i++) {
      expect((await onlyNew.get(`p${String(i).padStart(2, '0')}`, 'github-token'))?.reveal()).toBe(`token-${i}`);
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.ts';
import { keyIdsIn, proposeKeyId } from '../../src/vault/key-id.ts';
import { Keyring } from '../../src/vault/keyring.ts';
import { runCliCaptured } from '../helpers/run-cli.ts';

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCliCaptured(argv, env, mkdtempSync(join(tmpdir(), 'recap-cli-')));

/** Runs a real process the way `npm start` / `npm run recap` do. */
function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { PATH: process.env.PATH, ...env },
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += String(c)));
    child.stderr.on('data', (c: Buffer) => (err += String(c)));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('recap CLI', () => {
  it('prints an overview for --help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: recap <command>/);
    expect(r.out).toMatch(/prompts validate/);
    expect(r.out).toMatch(/migrate/);
    expect(r.out).toMatch(/keys/);
  });

  it('exits 2 with usage for no command, an unknown command and a bad flag', async () => {
    expect((await cli([])).code).toBe(2);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^recap: error: unknown command "frobnicate"\n/);
    const badFlag = await cli(['migrate', '--frob']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/^recap: error: migrate: Unknown option '--frob'/);
    expect(badFlag.err).toMatch(/Usage: recap migrate/);
  });

  it('shows a group\'s help, and refuses a group without its subcommand', async () => {
    const help = await cli(['prompts', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: recap prompts <validate\|resolve>/);
    expect(help.out).toMatch(/prompts validate {2}validate a prompt repository folder/);
    const bare = await cli(['prompts']);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^recap: error: "prompts" needs a subcommand\n/);
    const wrong = await cli(['prompts', 'frob']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/^recap: error: unknown subcommand "prompts frob"\n/);
  });

  it('shows each command\'s help', async () => {
    const r = await cli(['keys', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/keys rotate/);
  });

  it('generates a master key the keyring accepts', async () => {
    const r = await cli(['keys', 'generate', '--id', 'test1']);
    expect(r.code).toBe(0);
    const [id, key] = r.out.trim().split(':');
    expect(id).toBe('test1');
    expect(Buffer.from(key ?? '', 'base64')).toHaveLength(32);
  });

  it('proposes a different key id on each run of one day, never one RECAP_MASTER_KEYS has', async () => {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const first = await cli(['keys', 'generate']);
    const second = await cli(['keys', 'generate']);
    expect([first.code, second.code]).toEqual([0, 0]);
    const firstId = first.out.trim().split(':')[0] ?? '';
    const secondId = second.out.trim().split(':')[0] ?? '';
    expect(firstId).toMatch(new RegExp(`^k${day}-[0-9a-f]{8}$`));
    expect(secondId).toMatch(new RegExp(`^k${day}-[0-9a-f]{8}$`));
    expect(secondId).not.toBe(firstId);
    // Both entries together make a valid keyring: the new one first, the old one after it.
    expect(Keyring.parse(new Secret(`${second.out.trim()},${first.out.trim()}`)).keys.map((k) => k.id)).toEqual([secondId, firstId]);

    const clash = await cli(['keys', 'generate', '--id', firstId], { RECAP_MASTER_KEYS: first.out.trim() });
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(new RegExp(`already has a key with id "${firstId}"`));
  });

  it('skips a proposed key id that is already configured', () => {
    const suffixes = [Uint8Array.of(0, 0, 0, 1), Uint8Array.of(0, 0, 0, 2)];
    const taken = keyIdsIn('k20261206-00000001:AAAA, other:BBBB');
    expect([...taken]).toEqual(['k20261206-00000001', 'other']);
    expect(proposeKeyId(new Date('2026-12-06T23:59:59Z'), () => suffixes.shift() ?? Uint8Array.of(9, 9, 9, 9), taken)).toBe('k20261206-00000002');
  });

  it('migrates an embedded database and reports its status', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'recap-data-'));
    const first = await cli(['migrate'], { DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/success: 0001_foundation/);
    const status = await cli(['migrate', '--status'], { DATA_DIR: dataDir });
    expect(status.out).toMatch(/applied\s+0001_foundation/);
    // A fresh embedded database from the sources runs initdb: tens of seconds on a busy machine.
  }, 120_000);
});

describe('start-up failures are one clear line', () => {
  it.each([
    [{ HTTP_PORT: 'abc' }, /^recap-bot: configuration: HTTP_PORT: expected a port number/],
    [{ RECAP_MASTER_KEYS: 'k1:AAAA' }, /^recap-bot: configuration: RECAP_MASTER_KEYS entry 1 \("k1"\): the key must be 32 bytes, got 3$/],
    [{ RECAP_MASTER_KEYS: `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}` }, /duplicate key id "k1"/],
    [{ DATABASE_URL: 'postgres://nobody:pw@127.0.0.1:1/none' }, /^recap-bot: database: cannot connect to postgres:\/\/nobody@127\.0\.0\.1:1\/none: connection refused/],
  ] as Array<[Record<string, string>, RegExp]>)('npm start with %o', async (env, expected) => {
    const r = await run('src/main.ts', [], { HTTP_PORT: '0', ...env, LOG_LEVEL: 'info' });
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).not.toContain('pw@');
  });
});

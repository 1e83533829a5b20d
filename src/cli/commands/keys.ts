import { parseFlags } from '../args.ts';
import { environmentWithDotenv } from '../../config/env.ts';
import { keyIdsIn, proposeKeyId } from '../../vault/key-id.ts';
import { Keyring, KEY_BYTES } from '../../vault/keyring.ts';
import { rotateSecrets } from '../../vault/rotate.ts';
import { loadSodium } from '../../vault/sodium.ts';
import { Vault } from '../../vault/vault.ts';
import { errorLine, UsageError, type CliCommand } from '../command.ts';
import { loadCliConfig } from '../cli-config.ts';
import { openCliRuntime } from '../runtime.ts';

const USAGE = `Usage: recap keys <generate|rotate> [options]

  generate [--id <id>]     print a new master key entry (id:base64) for RECAP_MASTER_KEYS;
                           the id is k<UTC date>-<random>, never one already in RECAP_MASTER_KEYS
  rotate [--batch-size n]  re-encrypt every stored secret with the first key of
                           RECAP_MASTER_KEYS; safe to interrupt and rerun

Rotating keys:
  1. npm run recap -- keys generate            (prints e.g. k20261122-5f3a9c1e:AbC...=)
  2. put the new entry FIRST in RECAP_MASTER_KEYS, keep the old ones after it,
     and restart: new secrets use the new key, old ones still decrypt
  3. npm run recap -- keys rotate
  4. when it reports 0 left on old keys, remove the old entries`;

export const keysCommand: CliCommand = {
  name: 'keys',
  usage: USAGE,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv;
    if (sub === 'generate') return generate(ctx.argv.slice(1), ctx);
    if (sub === 'rotate') return rotate(rest, ctx);
    throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
  },
};

async function generate(args: string[], ctx: Parameters<CliCommand['run']>[0]): Promise<number> {
  const { values } = parseFlags(args, { id: { type: 'string' } });
  const sodium = await loadSodium();
  const taken = keyIdsIn(environmentWithDotenv(ctx.env, ctx.cwd).RECAP_MASTER_KEYS);
  const id = values.id ?? proposeKeyId(new Date(), (n) => sodium.randombytes_buf(n), taken);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new UsageError('--id must be 1-32 letters, digits, _ or -');
  if (taken.has(id)) throw new UsageError(`RECAP_MASTER_KEYS already has a key with id "${id}"; choose another --id`);
  const key = sodium.randombytes_buf(KEY_BYTES);
  ctx.stdout.write(`${id}:${Buffer.from(key).toString('base64')}\n`);
  sodium.memzero(key);
  ctx.stderr.write(
    'Put this entry first in RECAP_MASTER_KEYS (comma-separated; keep older keys after it until `keys rotate` has run).\n' +
      'Store it like a password: without it, stored secrets cannot be decrypted.\n',
  );
  return 0;
}

async function rotate(args: string[], ctx: Parameters<CliCommand['run']>[0]): Promise<number> {
  const { values } = parseFlags(args, { 'batch-size': { type: 'string' } });
  const batchSize = Number(values['batch-size'] ?? 100);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new UsageError('--batch-size must be a whole number from 1 to 10000');
  }
  const config = loadCliConfig(ctx);
  if (config.masterKeys === undefined) {
    ctx.stderr.write(errorLine('RECAP_MASTER_KEYS is not set; there is no key to rotate to'));
    return 1;
  }
  const keyring = Keyring.parse(config.masterKeys);
  const runtime = await openCliRuntime(ctx, { migrate: true });
  try {
    const vault = new Vault(runtime.database.db, await loadSodium(), keyring);
    // A test seam to interrupt a run between batches; harmless in production.
    const pauseMs = Number(ctx.env.RECAP_ROTATE_PAUSE_MS ?? 0);
    const result = await rotateSecrets(runtime.database.db, vault, keyring.current.id, {
      batchSize,
      onBatch: async (p) => {
        ctx.stderr.write(`rotated ${p.rotated} so far\n`);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      },
    });
    ctx.stdout.write(
      `rotated ${result.rotated} secret(s) to key "${keyring.current.id}"; ${result.unchanged} changed meanwhile; ${result.failed.length} could not be decrypted\n`,
    );
    for (const f of result.failed) ctx.stdout.write(`  cannot rotate: ${f.reason}\n`);
    return result.failed.length === 0 ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

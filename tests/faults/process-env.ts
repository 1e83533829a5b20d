import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';

/** The parent's environment without test-runner variables, with every .env setting blanked (real variables win over .env). */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'NODE_ENV') continue;
    env[key] = value;
  }
  return { HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'info', DISCORD_TOKEN: '', DATABASE_URL: '', ...extra };
}

/** A DATA_DIR holding a migrated PGlite (cloned from the suite's template: no initdb in the child). */
export async function seededPgliteDataDir(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'recap-fault-'));
  const template = readFileSync(inject('pgliteTemplate'));
  const seeded = await PGlite.create({ dataDir: join(dir, 'pglite'), loadDataDir: new Blob([template]) });
  await seeded.close();
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

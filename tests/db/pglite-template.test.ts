/**
 * A fresh embedded directory starts from the migrated template instead of
 * initdb (src/db/pglite-template.ts): the real PGlite, a real template.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { seedFromTemplate, writeTemplate } from '../../src/db/pglite-template.ts';
import { createLogger } from '../../src/log/logger.ts';

const scratch = mkdtempSync(join(tmpdir(), 'recap-template-'));
const templates = join(scratch, 'templates');
const logger = createLogger({ level: 'silent', format: 'json' });

beforeAll(async () => {
  await writeTemplate(templates);
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('seedFromTemplate', () => {
  it('fills an empty directory with a migrated database PGlite opens', async () => {
    const pgdata = join(scratch, 'fresh');
    expect(await seedFromTemplate(pgdata, templates)).toBe(true);
    expect(existsSync(join(pgdata, 'PG_VERSION'))).toBe(true);
    const handle = await openDatabase({ dataDir: '', poolMax: 1, logger, pglite: await PGlite.create(pgdata) });
    try {
      // Every migration is already applied: nothing left to run.
      expect(await migrateToLatest(handle.db)).toEqual([]);
    } finally {
      await handle.close();
    }
    // Nothing staged is left beside it.
    expect(readdirSync(scratch).filter((n) => n.includes('.seed-'))).toEqual([]);
  }, 120_000);

  it('leaves a directory that holds a database alone', async () => {
    const pgdata = join(scratch, 'existing');
    mkdirSync(pgdata);
    writeFileSync(join(pgdata, 'PG_VERSION'), '17\n');
    expect(await seedFromTemplate(pgdata, templates)).toBe(false);
    expect(readdirSync(pgdata)).toEqual(['PG_VERSION']);
  });

  it('seeds again over what a start that died half-way left, keeping foreign files', async () => {
    const pgdata = join(scratch, 'half');
    mkdirSync(join(pgdata, 'base'), { recursive: true });
    writeFileSync(join(pgdata, 'base', 'junk'), 'partial');
    writeFileSync(join(pgdata, 'recap.lock'), 'lock');
    expect(await seedFromTemplate(pgdata, templates)).toBe(true);
    expect(existsSync(join(pgdata, 'base', 'junk'))).toBe(false);
    expect(existsSync(join(pgdata, 'recap.lock'))).toBe(true);
    expect(existsSync(join(pgdata, 'PG_VERSION'))).toBe(true);
  }, 60_000);

  it('does nothing without a template made by this code', async () => {
    expect(await seedFromTemplate(join(scratch, 'none'), join(scratch, 'no-templates'))).toBe(false);
    expect(existsSync(join(scratch, 'none'))).toBe(false);
  });
});

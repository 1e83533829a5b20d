/**
 * A fresh embedded database starts from a migrated copy made at build time
 * instead of running initdb. PGlite's initdb is most of a first start
 * (10-20 s on a busy machine, and half a gigabyte of RSS that stays with the
 * process); unpacking the copy takes well under a second. `npm run build`
 * writes the copy to dist/pglite-template/<key>.tar.gz, the key naming the
 * PGlite build and the migrations' code, so a copy is only ever used by the
 * code that made it. From the sources (tsx) there is none, and a fresh
 * directory is created by initdb as before.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import tar from 'tar-stream';
import { migrations } from '../../migrations/index.ts';
import { migrateToLatest } from './migrate.ts';

/** Where the build puts the copy: beside src/ (dist/pglite-template when compiled). */
export const TEMPLATE_DIR = resolve(import.meta.dirname, '..', '..', 'pglite-template');

const execFileAsync = promisify(execFile);

/** The file Postgres writes last in initdb; a directory without it holds no database. */
const MARKER = 'PG_VERSION';

/** Changes whenever a migration's code or the PGlite build changes. */
export function templateKey(): string {
  const hash = createHash('sha256');
  hash.update(pgliteVersion());
  for (const [name, migration] of Object.entries(migrations)) {
    hash.update(`\u0000${name}\u0000${String(migration.up)}\u0000${String(migration.down ?? '')}`);
  }
  return hash.digest('hex').slice(0, 16);
}

function pgliteVersion(): string {
  try {
    const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
    // dist/index.js → the package's own package.json.
    const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: unknown };
    return String(manifest.version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** Build time: initdb and every migration, saved as `<dir>/<key>.tar.gz`. */
export async function writeTemplate(dir: string = TEMPLATE_DIR): Promise<string> {
  const pglite = await PGlite.create();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db);
    const dump = await pglite.dumpDataDir('gzip');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${templateKey()}.tar.gz`);
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    return file;
  } finally {
    await db.destroy();
    if (!pglite.closed) await pglite.close();
  }
}

/**
 * When `pgdata` holds no database yet and a template for this code exists,
 * unpacks it there and returns true. The files are unpacked beside `pgdata`
 * first and moved in with the marker last, so a start that dies half-way
 * leaves a directory this seeds again, never a half database that looks whole.
 */
export async function seedFromTemplate(pgdata: string, templateDir: string = TEMPLATE_DIR): Promise<boolean> {
  if (existsSync(join(pgdata, MARKER))) return false;
  const file = join(templateDir, `${templateKey()}.tar.gz`);
  if (!existsSync(file)) return false;
  const staging = `${pgdata}.seed-${randomBytes(4).toString('hex')}`;
  try {
    await unpack(file, staging);
    mkdirSync(pgdata, { recursive: true });
    const names = readdirSync(staging).sort((a, b) => Number(a === MARKER) - Number(b === MARKER));
    for (const name of names) {
      rmSync(join(pgdata, name), { recursive: true, force: true });
      renameSync(join(staging, name), join(pgdata, name));
    }
    return true;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The system's tar where there is one: a fresh database is about a thousand
 * small files, and creating them one stream at a time from JavaScript takes
 * twice as long. The template is the build's own file, not input.
 */
async function unpack(file: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  try {
    await execFileAsync('tar', ['-xzf', file, '-C', into, '--no-same-owner'], { timeout: 60_000 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await unpackInProcess(file, into);
}

async function unpackInProcess(file: string, into: string): Promise<void> {
  const root = resolve(into);
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const target = resolve(root, `.${sep}${header.name}`);
    const inside = target === root || target.startsWith(`${root}${sep}`);
    const done = (error?: unknown): void => (error === undefined ? next() : next(error as Error));
    if (!inside) {
      stream.resume();
      done(new Error(`template entry "${header.name}" is outside the database directory`));
      return;
    }
    if (header.type === 'directory') {
      stream.resume();
      mkdir(target, { recursive: true }).then(() => done(), done);
      return;
    }
    // Streamed to the file: the whole database never sits in memory, which would stay in the RSS.
    mkdir(dirname(target), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(target, { mode: 0o600 })))
      .then(() => done(), done);
  });
  await mkdir(root, { recursive: true });
  await pipeline(createReadStream(file), createGunzip(), extract);
}

import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawSnapshot } from '../types.ts';
import { SnapshotCollector } from './snapshot-collector.ts';
import type { FetchOutcome, FetchRequest, PromptSource, SourceLimits } from './source.ts';
import { SourceError } from './source.ts';

interface LocalDirSourceOptions {
  /** The repository's root directory. */
  dir: string;
  limits: SourceLimits;
  /** How the repository is named in messages; defaults to the directory. */
  label?: string;
}

/**
 * A prompt repository on disk: the bundled `prompts/` folder, or a working
 * copy an admin tests before pushing. Its commit is a hash of the content, so
 * an unchanged directory keeps its commit across reads and restarts.
 */
export class LocalDirSource implements PromptSource {
  readonly id: string;

  constructor(private readonly options: LocalDirSourceOptions) {
    this.id = `dir:${options.dir}`;
  }

  async fetch(request: FetchRequest = {}): Promise<FetchOutcome> {
    const snapshot = await readDirectorySnapshot(this.options.dir, this.options.limits, {
      label: this.options.label,
      signal: request.signal,
    });
    if (request.known?.commit === snapshot.commit) {
      return { kind: 'not-modified', commit: snapshot.commit, etag: snapshot.commit };
    }
    return { kind: 'snapshot', snapshot, etag: snapshot.commit };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Reads every regular file under `dir`. Skips `.git`; records symlinks,
 * special files, unreadable files and unsafe names in `skipped` instead of
 * following or reading them.
 */
export async function readDirectorySnapshot(
  dir: string,
  limits: SourceLimits,
  options: { label?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<RawSnapshot> {
  const label = options.label ?? dir;
  const collector = new SnapshotCollector(limits, label);
  await listRoot(dir, label);

  // Depth-first with sorted names, so `skipped` comes out in a stable order.
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relativeDir = pending.pop() as string;
    const entries = await readEntries(join(dir, relativeDir));
    if (entries === undefined) {
      collector.skip(relativeDir, 'directory could not be read');
      continue;
    }
    const subdirectories: string[] = [];
    for (const entry of entries) {
      if (options.signal?.aborted) throw new SourceError('aborted', `Reading ${label} was cancelled.`);
      const name = decodeName(entry.name);
      const relative = relativeDir === '' ? name.text : `${relativeDir}/${name.text}`;
      if (!name.valid) {
        collector.skip(relative, 'unsafe name: not valid UTF-8');
        continue;
      }
      if (name.text === '.git') continue;
      if (entry.isSymbolicLink()) {
        collector.skip(relative, 'symbolic link (not followed)');
      } else if (entry.isDirectory()) {
        subdirectories.push(relative);
      } else if (entry.isFile()) {
        await readFileInto(collector, join(dir, relative), relative);
      } else {
        collector.skip(relative, 'not a regular file');
      }
    }
    // Reversed so that popping visits them in sorted order.
    pending.push(...subdirectories.reverse());
  }

  const provisional = collector.finish('');
  return { ...provisional, commit: contentHash(provisional.files) };
}

/** sha256 over the sorted paths and contents, hex, first 40 characters (the width of a Git SHA). */
function contentHash(files: ReadonlyMap<string, Uint8Array>): string {
  const hash = createHash('sha256');
  const paths = [...files.keys()].sort();
  for (const path of paths) {
    const content = files.get(path) as Uint8Array;
    // Lengths make the encoding unambiguous: no path/content split can collide with another.
    hash.update(`${Buffer.byteLength(path)}:${path}\u0000${content.byteLength}:`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, 40);
}

async function listRoot(dir: string, label: string): Promise<void> {
  try {
    await readdir(dir);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SourceError('not-found', `${label}: the directory does not exist.`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SourceError('forbidden', `${label}: the directory cannot be read (permission denied).`);
    }
    throw new SourceError('network', `${label}: the directory cannot be read (${code ?? 'unknown error'}).`);
  }
}

async function readEntries(path: string): Promise<Array<Dirent<Buffer>> | undefined> {
  try {
    const entries = await readdir(path, { withFileTypes: true, encoding: 'buffer' });
    return entries.sort((a, b) => Buffer.compare(a.name, b.name));
  } catch {
    return undefined;
  }
}

async function readFileInto(collector: SnapshotCollector, absolute: string, relative: string): Promise<void> {
  let handle;
  try {
    // O_NOFOLLOW: the entry may have been swapped for a symlink since it was listed.
    handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    collector.skip(relative, code === 'ELOOP' ? 'symbolic link (not followed)' : `unreadable (${code ?? 'error'})`);
    return;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      collector.skip(relative, 'not a regular file');
      return;
    }
    if (!collector.admit(relative, stat.size)) return;
    collector.add(relative, new Uint8Array(await handle.readFile()));
  } finally {
    await handle.close();
  }
}

function decodeName(raw: Buffer): { text: string; valid: boolean } {
  try {
    return { text: utf8.decode(raw), valid: true };
  } catch {
    return { text: lenientUtf8.decode(raw), valid: false };
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

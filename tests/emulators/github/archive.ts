import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Commit, Repository } from './model.ts';

/** An extra, possibly hostile entry for fault injection (see the `archive-entries` fault). */
export interface RawTarEntry {
  /** Joined to the archive's top folder, unless `verbatim` (then used as the full entry name, e.g. `/etc/passwd`). */
  name: string;
  verbatim?: boolean;
  type?: 'file' | 'symlink' | 'link' | 'directory' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Uint8Array;
  linkname?: string;
}

/** The folder GitHub puts everything in: `owner-repo-sha7`. */
export function archiveFolder(repo: Pick<Repository, 'owner' | 'name'>, commit: Pick<Commit, 'sha'>): string {
  return `${repo.owner}-${repo.name}-${commit.sha.slice(0, 7)}`;
}

/**
 * A tarball as `git archive` (and so GitHub) writes it: a pax global header
 * carrying the commit SHA, a top-level folder, a directory entry before each
 * folder's contents, symlinks as symlinks, and submodules as empty folders.
 */
export async function buildTarball(repo: Repository, commit: Commit, extra: readonly RawTarEntry[] = []): Promise<Buffer> {
  const top = archiveFolder(repo, commit);
  const mtime = new Date(Math.floor(commit.date / 1000) * 1000);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const finished = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });

  pack.entry({ name: `${top}/`, type: 'directory', mode: 0o775, mtime });
  const emitted = new Set<string>();
  const ensureFolders = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const folder = parts.slice(0, i).join('/');
      if (emitted.has(folder)) continue;
      emitted.add(folder);
      pack.entry({ name: `${top}/${folder}/`, type: 'directory', mode: 0o775, mtime });
    }
  };
  for (const path of [...commit.tree.keys()].sort()) {
    const entry = commit.tree.get(path);
    if (entry === undefined) continue;
    ensureFolders(path);
    const name = `${top}/${path}`;
    if (entry.type === 'blob') {
      pack.entry({ name, type: 'file', mode: entry.executable ? 0o775 : 0o664, mtime, size: entry.content.byteLength }, Buffer.from(entry.content));
    } else if (entry.type === 'symlink') {
      pack.entry({ name, type: 'symlink', linkname: entry.target, mode: 0o777, mtime });
    } else {
      pack.entry({ name: `${name}/`, type: 'directory', mode: 0o775, mtime });
    }
  }
  for (const raw of extra) {
    const name = raw.verbatim === true ? raw.name : `${top}/${raw.name}`;
    const content = raw.content === undefined ? undefined : Buffer.from(raw.content);
    const header = { name, type: raw.type ?? 'file', mtime, mode: 0o664, ...(raw.linkname === undefined ? {} : { linkname: raw.linkname }) };
    if (content === undefined) pack.entry(header);
    else pack.entry({ ...header, size: content.byteLength }, content);
  }
  pack.finalize();
  await finished;
  return gzipSync(Buffer.concat([paxGlobalHeader(commit.sha), ...chunks]));
}

/**
 * `git archive` starts with a pax global header (`comment=<sha>`); tar-stream
 * cannot write one, so it is built here: a ustar header with typeflag `g`
 * followed by the padded record.
 */
function paxGlobalHeader(sha: string): Buffer {
  const record = paxRecord('comment', sha);
  const header = Buffer.alloc(512, 0);
  header.write('pax_global_header', 0, 'utf8');
  header.write('0000666\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${record.byteLength.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write('00000000000\0', 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('g', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (record.byteLength % 512)) % 512, 0);
  return Buffer.concat([header, record, padding]);
}

/** A pax record `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`);
}

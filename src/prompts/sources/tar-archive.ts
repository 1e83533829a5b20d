import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { RawSnapshot } from '../types.ts';
import { SnapshotCollector } from './snapshot-collector.ts';
import type { SourceLimits } from './source.ts';
import { SourceError } from './source.ts';
import { messageOf } from '../../log/error-message.ts';

interface ReadTarballOptions {
  limits: SourceLimits;
  /** Names the repository in messages, e.g. `owner/name`. */
  label: string;
}

type Stage = 'download' | 'gunzip' | 'tar';

/**
 * Reads a gzipped tarball as GitHub serves it (one top-level folder
 * `owner-repo-sha7/`, a pax global header, directory entries) into a
 * snapshot, streaming: limits are checked while bytes arrive, so a huge or
 * hostile archive is refused without being held in memory.
 *
 * Entries that are not regular files (symlinks, hard links, devices, FIFOs)
 * and entries with unsafe names (absolute, `..`, outside the top folder) are
 * skipped with a reason. Submodules appear in archives as empty folders; the
 * paths `.gitmodules` declares are recorded as skipped.
 */
export async function readTarball(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  commit: string,
  options: ReadTarballOptions,
): Promise<RawSnapshot> {
  const { limits, label } = options;
  const collector = new SnapshotCollector(limits, label);
  // Headers, folders and padding cost bytes too; bound them so an archive of
  // millions of empty entries cannot keep us busy.
  const maxEntries = limits.maxFiles * 4 + 256;
  const maxExpanded = limits.maxBytes + maxEntries * 1536 + 1024 * 1024;
  const tooLarge = (): SourceError =>
    new SourceError('too-large', `The archive of ${label} is larger than the limits allow (${limits.maxFiles} files, ${limits.maxBytes} bytes).`);

  let failedStage: Stage | undefined;
  const mark = (stage: Stage) => (): void => {
    failedStage ??= stage;
  };

  const source = isWebStream(body) ? Readable.fromWeb(body as NodeReadableStream<Uint8Array>) : Readable.from(body);
  source.once('error', mark('download'));
  const downloaded = new ByteLimit(maxExpanded + 64 * 1024, tooLarge);
  const gunzip = createGunzip();
  gunzip.once('error', mark('gunzip'));
  const expanded = new ByteLimit(maxExpanded, tooLarge);
  const extract = tar.extract();
  extract.once('error', mark('tar'));

  const flowing = pipeline(source, downloaded, gunzip, expanded, extract);
  // Failures surface through the entry loop below; this only prevents an unhandled rejection.
  flowing.catch(() => undefined);

  let topFolder: string | undefined;
  let entries = 0;
  try {
    for await (const entry of extract) {
      entries += 1;
      if (entries > maxEntries) throw tooLarge();
      const { header } = entry;
      const location = locate(header.name, topFolder);
      topFolder ??= location.top;
      if (location.kind === 'root') {
        entry.resume();
        continue;
      }
      if (location.kind === 'unsafe') {
        collector.skip(location.path, location.reason);
        entry.resume();
        continue;
      }
      const path = location.path;
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          if (!collector.admit(path, header.size ?? 0)) {
            entry.resume();
            break;
          }
          collector.add(path, await readEntry(entry, collector));
          break;
        }
        case 'directory':
          entry.resume();
          break;
        case 'symlink':
          collector.skip(path, 'symbolic link (not followed)');
          entry.resume();
          break;
        case 'link':
          collector.skip(path, 'hard link (not followed)');
          entry.resume();
          break;
        default:
          collector.skip(path, `special entry (${header.type ?? 'unknown type'}) skipped`);
          entry.resume();
      }
    }
    await flowing;
  } catch (error) {
    source.destroy();
    if (error instanceof SourceError) throw error;
    throw describeFailure(failedStage, label, error);
  }

  recordSubmodules(collector);
  return collector.finish(commit);
}

type Location =
  | { kind: 'root'; top: string }
  | { kind: 'unsafe'; top: string | undefined; path: string; reason: string }
  | { kind: 'file'; top: string; path: string };

/** Splits an entry name into the archive's top folder and the repo-relative path. */
function locate(rawName: string, knownTop: string | undefined): Location {
  if (rawName.startsWith('/')) return { kind: 'unsafe', top: knownTop, path: rawName, reason: 'unsafe name: absolute path' };
  const name = rawName.replace(/\/+$/, '');
  const slash = name.indexOf('/');
  const top = slash === -1 ? name : name.slice(0, slash);
  const rest = slash === -1 ? '' : name.slice(slash + 1);
  if (top === '' || top === '.' || top === '..') {
    return { kind: 'unsafe', top: knownTop, path: rawName, reason: 'unsafe name: outside the archive folder' };
  }
  if (knownTop !== undefined && top !== knownTop) {
    return { kind: 'unsafe', top: knownTop, path: rawName, reason: 'unsafe name: outside the archive folder' };
  }
  if (rest === '') return { kind: 'root', top };
  return { kind: 'file', top, path: rest };
}

async function readEntry(entry: AsyncIterable<unknown>, collector: SnapshotCollector): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const item of entry) {
    const chunk = Buffer.isBuffer(item) ? item : Buffer.from(item as Uint8Array);
    size += chunk.byteLength;
    // Declared sizes are checked on admission; this guards against lying headers.
    collector.ensureBytes(size);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}

/** Longer `path =` values in `.gitmodules` name nothing an archive can hold. */
const MAX_SUBMODULE_PATH_CHARS = 4096;

/** `.gitmodules` names the submodule paths; archives show them as empty folders. */
function recordSubmodules(collector: SnapshotCollector): void {
  const gitmodules = collector.get('.gitmodules');
  if (gitmodules === undefined) return;
  const text = new TextDecoder().decode(gitmodules);
  // Line by line, no backtracking: a regular expression took seconds on a line of spaces.
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('path')) continue;
    const rest = line.slice('path'.length).trimStart();
    if (!rest.startsWith('=')) continue;
    const path = rest.slice(1).trim();
    if (path !== '' && path.length <= MAX_SUBMODULE_PATH_CHARS && !collector.has(path)) collector.skip(path, 'submodule (not followed)');
  }
}

function describeFailure(stage: Stage | undefined, label: string, error: unknown): SourceError {
  if (stage === 'gunzip' || stage === 'tar') {
    return new SourceError('invalid-archive', `The archive of ${label} is truncated or corrupt (${stage === 'gunzip' ? 'gzip' : 'tar'}: ${shortReason(error)}).`);
  }
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new SourceError('timeout', `The download of ${label} took too long and was stopped.`);
  }
  return new SourceError('network', `The download of ${label} broke off (${shortReason(error)}).`);
}

function shortReason(error: unknown): string {
  const text = messageOf(error);
  return text.slice(0, 120);
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as { getReader?: unknown }).getReader === 'function';
}

/** Passes bytes through and fails once more than `limit` have gone by. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly failure: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.byteLength;
    if (this.seen > this.limit) {
      callback(this.failure());
      return;
    }
    callback(null, chunk);
  }
}

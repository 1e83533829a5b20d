import { gunzipSync, gzipSync } from 'node:zlib';
import type { RawSnapshot } from './types.ts';
import { messageOf } from '../log/error-message.ts';

/**
 * Files of a snapshot as one compressed blob for the database. The format is
 * a length-prefixed list, so no file content is ever interpreted on the way.
 */
export function encodeSnapshotFiles(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [path, bytes] of files) {
    const name = Buffer.from(path, 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(name.length, 0);
    header.writeUInt32BE(bytes.byteLength, 4);
    parts.push(header, name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return new Uint8Array(gzipSync(Buffer.concat(parts)));
}

class SnapshotCodecError extends Error {
  override readonly name = 'SnapshotCodecError';
}

export function decodeSnapshotFiles(blob: Uint8Array, maxBytes: number): Map<string, Uint8Array> {
  let raw: Buffer;
  try {
    raw = gunzipSync(blob, { maxOutputLength: maxBytes + 1024 * 1024 });
  } catch (error) {
    throw new SnapshotCodecError(`stored snapshot is unreadable: ${messageOf(error)}`);
  }
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset < raw.length) {
    if (offset + 8 > raw.length) throw new SnapshotCodecError('stored snapshot is truncated');
    const nameLength = raw.readUInt32BE(offset);
    const size = raw.readUInt32BE(offset + 4);
    offset += 8;
    if (offset + nameLength + size > raw.length) throw new SnapshotCodecError('stored snapshot is truncated');
    const path = raw.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    files.set(path, new Uint8Array(raw.subarray(offset, offset + size)));
    offset += size;
  }
  return files;
}

export function snapshotBytes(snapshot: RawSnapshot): number {
  let total = 0;
  for (const bytes of snapshot.files.values()) total += bytes.byteLength;
  return total;
}

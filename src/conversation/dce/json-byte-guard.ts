import { Transform, type TransformCallback } from 'node:stream';
import { ImportError } from '../import-error.ts';

/**
 * Sits in front of the JSON parser and looks at raw bytes, because the parser
 * reports neither byte positions nor limits:
 * - counts bytes, so errors can say where they happened;
 * - strips a UTF-8 byte-order mark (Windows editors add one);
 * - rejects input whose first byte cannot start JSON, naming what it looks
 *   like instead (an HTML, CSV or text export, a gzip file);
 * - bounds any single string, and any stretch between strings, because the
 *   parser accumulates a whole value in memory before handing it over: one
 *   hostile 2 GB string would otherwise exhaust the heap.
 */
interface ByteGuardOptions {
  /** Largest string value, or run of bytes between strings, allowed. */
  maxRunBytes: number;
  /** Label for error messages (usually the file name). */
  source?: string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BOM = [0xef, 0xbb, 0xbf] as const;

export class JsonByteGuard extends Transform {
  /** Bytes received so far (including a stripped BOM). */
  bytesRead = 0;
  /** Start offset of the chunk most recently passed on. */
  lastChunkStart = 0;
  /** True once the input has ended. */
  inputEnded = false;

  private readonly maxRunBytes: number;
  private readonly source: string | undefined;
  private sawFirstByte = false;
  private inString = false;
  private escaped = false;
  private run = 0;
  private runStart = 0;

  constructor(options: ByteGuardOptions) {
    super();
    this.maxRunBytes = options.maxRunBytes;
    this.source = options.source;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const start = this.bytesRead;
    this.bytesRead += bytes.length;
    try {
      if (start === 0 && bytes.length >= 3 && BOM.every((b, i) => bytes[i] === b)) bytes = bytes.subarray(3);
      const offset = this.bytesRead - bytes.length;
      if (!this.sawFirstByte) this.sniff(bytes, offset);
      this.scanRuns(bytes, offset);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.lastChunkStart = start;
    callback(null, bytes);
  }

  override _flush(callback: TransformCallback): void {
    this.inputEnded = true;
    if (!this.sawFirstByte) {
      callback(new ImportError('not-json', 'the file is empty: expected a DiscordChatExporter JSON export', { source: this.source, byteOffset: 0 }));
      return;
    }
    callback();
  }

  private sniff(bytes: Buffer, offset: number): void {
    let i = 0;
    while (i < bytes.length && isJsonWhitespace(bytes[i]!)) i++;
    if (i === bytes.length) return;
    this.sawFirstByte = true;
    const first = bytes[i]!;
    if (first === 0x7b /* { */ || first === 0x5b /* [ */) return;
    const prefix = bytes.subarray(i, i + 64);
    throw new ImportError('not-json', `not JSON: byte ${offset + i} is ${describeByte(first)} where a JSON object was expected${hintFor(prefix)}`, {
      source: this.source,
      byteOffset: offset + i,
    });
  }

  private scanRuns(bytes: Buffer, offset: number): void {
    const max = this.maxRunBytes;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          this.run = 0;
          this.runStart = offset + i + 1;
          continue;
        }
      } else if (b === QUOTE) {
        this.inString = true;
        this.run = 0;
        this.runStart = offset + i;
        continue;
      }
      if (++this.run > max) {
        const what = this.inString ? 'a string value' : 'a stretch of JSON without any string';
        throw new ImportError('too-large', `${what} starting at byte ${this.runStart} is longer than ${max} bytes; a DiscordChatExporter export has no such value`, {
          source: this.source,
          byteOffset: this.runStart,
        });
      }
    }
  }
}

function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, '0')}`;
}

function hintFor(prefix: Buffer): string {
  if (prefix[0] === 0x1f && prefix[1] === 0x8b) return '; this is a gzip-compressed file: decompress it first';
  if (prefix[0] === 0x50 && prefix[1] === 0x4b) return '; this is a zip archive: extract the .json export from it first';
  const text = prefix.toString('latin1');
  if (/^<(!doctype|html)/i.test(text))
    return '; this looks like a DiscordChatExporter HTML export: export the channel again with the JSON format (--format Json)';
  if (/^AuthorID,/i.test(text)) return '; this looks like a DiscordChatExporter CSV export: export the channel again with the JSON format (--format Json)';
  if (/^={10,}/.test(text)) return '; this looks like a DiscordChatExporter plain-text export: export the channel again with the JSON format (--format Json)';
  const printable = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 24);
  return ` (the file starts with "${printable}")`;
}

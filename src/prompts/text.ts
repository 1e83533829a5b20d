import { makeProblem, type Position } from './problems.ts';
import type { Problem } from './types.ts';

type DecodeResult = { ok: true; text: string } | { ok: false; problem: Problem };

/**
 * Bytes of a repository file → text with LF line endings. UTF-8 only (a bad
 * sequence is an error, never a U+FFFD), a leading BOM is dropped, and NUL is
 * refused: no prompt has a reason to hold one and it truncates text in C code.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): DecodeResult {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      ok: false,
      problem: makeProblem(
        'error',
        'encoding.nul',
        file,
        `contains a NUL byte; save the file as plain UTF-8 text`,
        positionOfByte(bytes, nul),
      ),
    };
  }
  let text: string;
  try {
    // ignoreBOM false: the decoder itself drops a leading BOM.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    return {
      ok: false,
      problem: makeProblem(
        'error',
        'encoding.not-utf8',
        file,
        `is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at offset ${bad}); save the file as UTF-8`,
        positionOfByte(bytes, bad),
      ),
    };
  }
  return { ok: true, text: normalizeNewlines(text) };
}

export function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i];
    return b !== undefined && b >= lo && b <= hi;
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const lo = b === 0xe0 ? 0xa0 : 0x80;
      const hi = b === 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return i;
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const lo = b === 0xf0 ? 0x90 : 0x80;
      const hi = b === 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return bytes.length;
}

/** Line and column (in characters, counting a multi-byte sequence once) of a byte offset. */
function positionOfByte(bytes: Uint8Array, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < offset; i++) {
    const b = bytes[i]!;
    if (b < 0x80 || b > 0xbf) column += 1;
  }
  return { line, column };
}

/** Line and column of a character offset in LF-normalized text, lines counted from `firstLine`. */
export function positionOfIndex(text: string, index: number, firstLine = 1): Position {
  let line = firstLine;
  let lineStart = 0;
  let next = text.indexOf('\n');
  while (next !== -1 && next < index) {
    line += 1;
    lineStart = next + 1;
    next = text.indexOf('\n', lineStart);
  }
  return { line, column: index - lineStart + 1 };
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

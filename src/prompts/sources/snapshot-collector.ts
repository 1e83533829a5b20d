import type { RawSnapshot } from '../types.ts';
import { unsafePathReason } from './safe-path.ts';
import type { SourceLimits } from './source.ts';
import { SourceError } from './source.ts';

/**
 * Gathers the files of one snapshot while enforcing the limits, so every
 * source applies the same rules: unsafe names and duplicates are skipped with
 * a reason, and crossing a limit stops the whole read with `too-large`.
 */
export class SnapshotCollector {
  private readonly files = new Map<string, Uint8Array>();
  private readonly skipped: Array<{ path: string; reason: string }> = [];
  private bytes = 0;

  constructor(
    private readonly limits: SourceLimits,
    /** Names the repository in limit messages, e.g. `owner/name`. */
    private readonly label: string,
  ) {}

  /** Records an entry that is deliberately left out. */
  skip(path: string, reason: string): void {
    this.skipped.push({ path, reason });
  }

  /**
   * Checks a path and a declared size before the content is read, so an
   * oversized entry is refused without buffering it. Returns false (and
   * records why) when the entry must be skipped.
   */
  admit(path: string, declaredSize: number): boolean {
    const unsafe = unsafePathReason(path);
    if (unsafe !== undefined) {
      this.skip(path, `unsafe name: ${unsafe}`);
      return false;
    }
    if (this.files.has(path)) {
      this.skip(path, 'duplicate entry (the first one is kept)');
      return false;
    }
    if (this.files.size + 1 > this.limits.maxFiles) {
      throw new SourceError(
        'too-large',
        `${this.label} has more than ${this.limits.maxFiles} files; remove files the bot does not need.`,
      );
    }
    this.ensureBytes(declaredSize);
    return true;
  }

  /** Adds an admitted file. The content length is checked again: declared sizes can lie. */
  add(path: string, content: Uint8Array): void {
    this.ensureBytes(content.byteLength);
    this.bytes += content.byteLength;
    this.files.set(path, content);
  }

  /** Throws `too-large` when `more` bytes would exceed the byte limit. */
  ensureBytes(more: number): void {
    if (this.bytes + more > this.limits.maxBytes) {
      throw new SourceError(
        'too-large',
        `${this.label} holds more than ${formatBytes(this.limits.maxBytes)} of files; remove large files the bot does not need.`,
      );
    }
  }

  get fileCount(): number {
    return this.files.size;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  get(path: string): Uint8Array | undefined {
    return this.files.get(path);
  }

  finish(commit: string): RawSnapshot {
    return { commit, files: this.files, skipped: this.skipped };
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${bytes} bytes`;
}

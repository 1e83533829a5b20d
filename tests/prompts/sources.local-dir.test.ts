import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirSource, readDirectorySnapshot } from '../../src/prompts/sources/local-dir-source.ts';
import { defaultSourceLimits } from '../../src/prompts/sources/source.ts';
import { failure, snapshotOf } from './source-outcomes.ts';

describe('LocalDirSource', () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-dir-source-'));
    dir = join(root, 'repo');
    await mkdir(join(dir, 'prompts', 'meeting'), { recursive: true });
    await mkdir(join(dir, '.git', 'objects'), { recursive: true });
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(dir, 'PATH'), 'version: v1\nroutes:\n  global_default: "prompts/default.md"\n');
    await writeFile(join(dir, 'prompts', 'default.md'), 'Summarize.\n');
    await writeFile(join(dir, 'prompts', 'meeting', 'default.md'), 'Meeting.\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads every regular file, leaves .git out, and records symlinks without following them', async () => {
    await writeFile(join(root, 'outside.md'), 'secret outside the repo\n');
    await symlink(join(root, 'outside.md'), join(dir, 'prompts', 'escape.md'));
    await symlink(root, join(dir, 'linked-dir'));
    const snapshot = snapshotOf(await new LocalDirSource({ dir, limits: defaultSourceLimits }).fetch());
    expect([...snapshot.files.keys()].sort()).toEqual(['PATH', 'prompts/default.md', 'prompts/meeting/default.md']);
    expect(new TextDecoder().decode(snapshot.files.get('prompts/default.md'))).toBe('Summarize.\n');
    expect(snapshot.skipped).toEqual([
      { path: 'linked-dir', reason: 'symbolic link (not followed)' },
      { path: 'prompts/escape.md', reason: 'symbolic link (not followed)' },
    ]);
  });

  it('gives a stable content hash: same content, same commit, wherever it lives', async () => {
    const source = new LocalDirSource({ dir, limits: defaultSourceLimits });
    const first = snapshotOf(await source.fetch());
    expect(first.commit).toMatch(/^[0-9a-f]{40}$/);
    const copy = join(root, 'copy');
    await cp(dir, copy, { recursive: true });
    await writeFile(join(copy, '.git', 'HEAD'), 'something else\n');
    expect(snapshotOf(await new LocalDirSource({ dir: copy, limits: defaultSourceLimits }).fetch()).commit).toBe(first.commit);

    expect(await source.fetch({ known: { commit: first.commit } })).toEqual({ kind: 'not-modified', commit: first.commit, etag: first.commit });

    await writeFile(join(dir, 'prompts', 'default.md'), 'Summarize briefly.\n');
    const changed = snapshotOf(await source.fetch({ known: { commit: first.commit } }));
    expect(changed.commit).not.toBe(first.commit);

    // Moving content between files changes the commit even though the bytes overall are the same.
    await writeFile(join(dir, 'prompts', 'default.md'), 'Summarize.\nMeeting.\n');
    await writeFile(join(dir, 'prompts', 'meeting', 'default.md'), '');
    expect(snapshotOf(await source.fetch()).commit).not.toBe(first.commit);
  });

  it('skips unsafe names and special files with a reason', async () => {
    await writeFile(join(dir, 'back\\slash.md'), 'x');
    await writeFile(join(dir, 'line\nbreak.md'), 'x');
    await writeFile(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x62, 0xff, 0x2e, 0x6d, 0x64])]), 'x');
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const snapshot = await readDirectorySnapshot(dir, defaultSourceLimits);
    expect(snapshot.files.size).toBe(3);
    const reasons = Object.fromEntries(snapshot.skipped.map((entry) => [entry.path, entry.reason]));
    expect(reasons).toEqual({
      'back\\slash.md': 'unsafe name: path contains a backslash',
      'line\nbreak.md': 'unsafe name: path contains a control character',
      'b\ufffd.md': 'unsafe name: not valid UTF-8',
      pipe: 'not a regular file',
    });
  });

  it('fails with too-large past the file or byte limit', async () => {
    const files = await failure(new LocalDirSource({ dir, limits: { maxFiles: 2, maxBytes: 1_000_000 } }).fetch());
    expect(files.kind).toBe('too-large');
    expect(files.message).toContain('more than 2 files');
    const bytes = await failure(new LocalDirSource({ dir, limits: { maxFiles: 100, maxBytes: 20 } }).fetch());
    expect(bytes.kind).toBe('too-large');
    expect(bytes.message).toContain('20 bytes');
    expect((await new LocalDirSource({ dir, limits: { maxFiles: 3, maxBytes: 1_000 } }).fetch()).kind).toBe('snapshot');
  });

  it('fails with not-found for a missing directory', async () => {
    const error = await failure(new LocalDirSource({ dir: join(root, 'nope'), limits: defaultSourceLimits, label: 'bundled prompts' }).fetch());
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('bundled prompts');
  });

  it('reads the bundled prompts folder', async () => {
    const snapshot = await readDirectorySnapshot(join(import.meta.dirname, '..', '..', 'prompts'), defaultSourceLimits);
    expect(snapshot.files.size).toBeGreaterThan(0);
    expect([...snapshot.files.keys()].every((path) => !path.startsWith('/') && !path.includes('..'))).toBe(true);
  });
});

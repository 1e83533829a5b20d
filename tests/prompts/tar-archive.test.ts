import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { readTarball } from '../../src/prompts/sources/tar-archive.ts';
import { defaultSourceLimits } from '../../src/prompts/sources/source.ts';

/** A gzipped tarball as GitHub serves it: one top folder holding the files. */
async function tarball(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) pack.entry({ name: `acme-prompts-abc1234/${name}` }, content);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

describe('tarball .gitmodules', () => {
  it('records submodule paths however the file is spaced', async () => {
    const bytes = await tarball({ PATH: 'x', '.gitmodules': '[submodule "a"]\n\tpath = vendor/a  \n  path=vendor/b\n\tpathname = no\n\turl = x\n' });
    const snapshot = await readTarball(once(bytes), 'c'.repeat(40), { limits: defaultSourceLimits, label: 'acme/prompts' });
    expect(snapshot.skipped).toEqual([
      { path: 'vendor/a', reason: 'submodule (not followed)' },
      { path: 'vendor/b', reason: 'submodule (not followed)' },
    ]);
  });

  it('reads a hostile .gitmodules (megabytes of spaces and blank lines) in one pass', async () => {
    // The regular expression this replaced needed seconds for 40 KB of either, and days for this.
    const hostile = `path = a${' '.repeat(3_000_000)}b\n${'\n'.repeat(3_000_000)}\tpath = vendor/real\n`;
    const bytes = await tarball({ PATH: 'x', '.gitmodules': hostile });
    const snapshot = await readTarball(once(bytes), 'c'.repeat(40), { limits: defaultSourceLimits, label: 'acme/prompts' });
    // A name no repository path can have is not recorded: it would only fill messages.
    expect(snapshot.skipped.map((s) => s.path)).toEqual(['vendor/real']);
  });
});

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { includeBombRepo } from './include-bombs.ts';

/** `recap prompts validate <dir>` as a real process, with its exit code or the signal that killed it. */
function validate(dir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'prompts', 'validate', dir], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += String(c)));
  child.stderr.on('data', (c: Buffer) => (err += String(c)));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, err })));
}

describe('recap prompts validate on an include bomb', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'recap-bomb-'));
    for (const [name, content] of Object.entries(includeBombRepo())) {
      await mkdir(dirname(join(root, 'bomb', name)), { recursive: true });
      await writeFile(join(root, 'bomb', name), content);
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('exits 1 with the file:line problems instead of dying', async () => {
    const r = await validate(join(root, 'bomb'));
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((line) => line.slice(line.indexOf('bomb/') + 'bomb/'.length));
    expect(lines).toEqual([
      'a.md:1:1: includes `b.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      'b.md:1:1: includes `c.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      'c.md:1:1: includes `d.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
      'd.md:1:6: uses variables more than 2,000 times once `e.md` is included here (the limit for a prompt), so it is skipped; shorten it or split it',
      'summaries/global.md:1:1: includes `a.md`, which uses variables more than 2,000 times after includes (the limit for a prompt), so this file is skipped too',
    ]);
    expect(r.err).toMatch(/invalid \(5 errors, 0 warnings, 8 files\)/);
  }, 60_000);
});

/**
 * The installed `recap` command: npm links package.json's "bin" into
 * node_modules/.bin as a symlink and runs it through its shebang. Real
 * processes of the compiled build.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, ensureBuilt, ROOT } from './compiled-build.ts';

const bin = mkdtempSync(join(tmpdir(), 'recap-bin-'));
const recap = join(bin, 'recap');

function run(args: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(recap, args, { cwd: bin, encoding: 'utf8', env: { PATH: process.env.PATH, DATA_DIR: join(bin, 'data') } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

beforeAll(() => {
  ensureBuilt();
  symlinkSync(CLI_ENTRY, recap);
}, 600_000);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('recap, linked as npm links a bin', () => {
  it('prints its help, and a group\'s', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: recap <command>/);
    const group = run(['prompts', '--help']);
    expect(group.code).toBe(0);
    expect(group.out).toMatch(/prompts resolve/);
  });

  it('summarizes from another working directory, on the prompts shipped with it', () => {
    const result = run(['summarize', join(ROOT, 'examples/sample-export.json')]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^prompt: default bundled:summaries\/discussion\/brief\.md · provider: local\/local-extractive/m);
  }, 300_000);

  it('reports errors in the one style, with exit 2 for usage', () => {
    const result = run(['summarize']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^recap: error: summarize: /);
  });
});

/**
 * The README's quick start, `recap summarize examples/sample-export.json`,
 * wall clock from a fresh process. Without DATABASE_URL it opens no
 * database (see src/cli/engine-runtime.ts), so this is module loading, the
 * plugins' start and the summary itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from './_report.ts';

export async function run(args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'recap-bench-quickstart-'));
  try {
    const walls: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'summarize', 'examples/sample-export.json'], {
        env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (result.status !== 0) throw new Error(`recap summarize exited with ${result.status}: ${String(result.stderr).slice(0, 500)}`);
      walls.push(performance.now() - started);
    }
    report('quickstart-summarize-wall', Math.round(Math.min(...walls)), 'ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

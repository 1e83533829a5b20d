/** The compiled build the process tests run: built once when dist/ is missing or older than a source. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SERVICE_ENTRY = join(ROOT, 'dist/src/main.js');
export const CLI_ENTRY = join(ROOT, 'dist/src/cli/bin.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const sources = Math.max(...['src', 'plugins', 'migrations', 'prompts', 'scripts'].map((d) => newestMtime(join(ROOT, d))));
  if (existsSync(SERVICE_ENTRY) && statSync(SERVICE_ENTRY).mtimeMs >= sources) return;
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`npm run build failed: ${String(result.stderr).slice(0, 2000)}`);
}

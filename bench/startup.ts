import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from './_report.ts';

/** Starts the real service the way `npm start` does and times it to its "running" log line. */
function startOnce(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0', LOG_FORMAT: 'json', DATABASE_URL: '', RECAP_MASTER_KEYS: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += String(chunk);
      const line = buffer.split('\n').find((l) => l.includes('recap-bot is running'));
      if (line !== undefined) {
        const wall = performance.now() - started;
        child.kill('SIGTERM');
        child.once('exit', () => resolve(wall));
      }
    });
    child.once('exit', (code) => {
      if (code !== null && code !== 0) reject(new Error(`service exited with ${code}`));
    });
  });
}

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'recap-bench-startup-'));
  try {
    report('startup-pglite-fresh', Math.round(await startOnce(dataDir)), 'ms');
    const reopen: number[] = [];
    for (let i = 0; i < 3; i++) reopen.push(await startOnce(dataDir));
    report('startup-pglite-reopen', Math.round(Math.min(...reopen)), 'ms');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

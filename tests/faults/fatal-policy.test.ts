import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/harness.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'fatal-policy-child.ts');

async function runChild(mode: string): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines };
}

describe('the process-level error policy (real processes)', () => {
  it('an unhandled rejection is logged with the correlation id, counted, and the process keeps serving', async () => {
    const { code, lines } = await runChild('rejection');
    expect(code).toBe(0);
    const logged = lines.find((l) => l['kind'] === 'unhandled_rejection');
    expect(logged).toMatchObject({ level: 50, correlationId: 'work-rejected-7' });
    expect(JSON.stringify(logged?.['err'])).toContain('a promise nobody awaited');
    expect(lines.find((l) => l['msg'] === 'still serving')?.['metric']).toBe('recap_process_errors_total{kind="unhandled_rejection"} 1');
  }, 30_000);

  it('an uncaught exception is logged with the correlation id, the app stops gracefully, and the process exits 1', async () => {
    const { code, lines } = await runChild('exception');
    expect(code).toBe(1);
    expect(lines.find((l) => l['kind'] === 'uncaught_exception')).toMatchObject({ level: 60, correlationId: 'work-crashed-9' });
    expect(lines.some((l) => l['msg'] === 'stopped gracefully')).toBe(true);
  }, 30_000);

  it('a graceful stop that hangs is cut short: the process still exits 1', async () => {
    const { code, lines } = await runChild('hang');
    expect(code).toBe(1);
    expect(lines.some((l) => l['msg'] === 'graceful stop did not finish in time; exiting anyway')).toBe(true);
  }, 30_000);
});

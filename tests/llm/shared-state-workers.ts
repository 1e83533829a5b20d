/** Starts shared-state-worker.ts processes and talks to them (tests and the router bench). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./shared-state-worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Worker {
  readonly pid: number;
  send(command: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Closes the service and waits for the process to exit. */
  close(): Promise<void>;
}

export async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let ready: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it was ready: ${stderr}`)));
  });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (parsed.ready === true) return ready();
    const id = parsed.id as number;
    waiting.get(id)?.(parsed);
    waiting.delete(id);
  });
  await readyPromise;
  let next = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid ?? -1,
    send(command) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      const id = next++;
      child.stdin!.write(`${JSON.stringify({ id, op: 'close' })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

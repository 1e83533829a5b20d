/**
 * Include bombs, measured one shape per child process so each peak RSS is
 * that compile's own: the process starts, builds the repository's bytes,
 * compiles them as a fetched snapshot would be, and prints its figures.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSnapshot } from '../src/prompts/snapshot.ts';
import type { RawSnapshot } from '../src/prompts/types.ts';
import { includeBombShapes } from '../tests/prompts/include-bombs.ts';

export interface IncludeBombFigures {
  /** Peak resident memory of the worst shape's process, in MB. */
  maxRssMb: number;
  /** Compile time of the slowest shape, in ms. */
  ms: number;
  shapes: Array<{ name: string; maxRssMb: number; ms: number; prompts: number; problems: number }>;
}

const CHILD_LINE = 'include-bomb-shape';
/** A shape that takes longer than this has not been bounded: the run fails rather than waits. */
const CHILD_TIMEOUT_MS = 120_000;

export async function measureIncludeBombs(): Promise<IncludeBombFigures> {
  const shapes: IncludeBombFigures['shapes'] = [];
  for (const { name } of includeBombShapes()) shapes.push({ name, ...(await measureInChild(name)) });
  return {
    maxRssMb: Math.max(...shapes.map((s) => s.maxRssMb)),
    ms: Math.max(...shapes.map((s) => s.ms)),
    shapes,
  };
}

function measureInChild(shape: string): Promise<{ maxRssMb: number; ms: number; prompts: number; problems: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), shape], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += String(chunk)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const match = new RegExp(`^${CHILD_LINE}: (\\d+) (\\d+) (\\d+) (\\d+)$`, 'm').exec(text);
      if (code !== 0 || match === null) {
        reject(new Error(`include bomb ${shape}: the measuring process ended with ${signal ?? code} and printed ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ maxRssMb: Number(match[1]), ms: Number(match[2]), prompts: Number(match[3]), problems: Number(match[4]) });
    });
  });
}

/** In the child: one shape, compiled once. */
function measureHere(name: string): string {
  const shape = includeBombShapes().find((s) => s.name === name);
  if (shape === undefined) throw new Error(`no include bomb shape ${name}`);
  const encoder = new TextEncoder();
  const raw: RawSnapshot = { commit: name, skipped: [], files: new Map(Object.entries(shape.files).map(([path, text]) => [path, encoder.encode(text)])) };
  const started = performance.now();
  const { repo, problems } = parseSnapshot(raw);
  const ms = performance.now() - started;
  // resourceUsage reports kilobytes: the peak of this whole process.
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return `${CHILD_LINE}: ${maxRssMb} ${Math.round(ms)} ${repo?.prompts.size ?? 0} ${problems.length}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${measureHere(process.argv[2] ?? '')}\n`);
}

/**
 * Heap held by cached snapshots: a real SnapshotCache filled from an
 * in-memory source of generated repositories (every prompt distinct), with a
 * store that persists nothing, measured between two full collections.
 *
 * Needs `global.gc`. Run directly (`node --expose-gc --import tsx
 * bench/_prompts-memory.ts`), it prints `snapshot-heap-bytes: N`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { CacheTarget } from '../src/prompts/snapshot-cache.ts';
import { SnapshotCache } from '../src/prompts/snapshot-cache.ts';
import type { SnapshotStore } from '../src/prompts/snapshot-store.ts';
import type { FetchOutcome, PromptSource } from '../src/prompts/sources/source.ts';
import { ManualClock } from '../src/resilience/clock.ts';
import { silentLogger } from './_prompts-engine.ts';
import { generatedSnapshotFiles } from './_prompts-repos.ts';

export interface MemoryShape {
  snapshots: number;
  promptsPerSnapshot: number;
  promptBytes: number;
}

export const defaultMemoryShape: MemoryShape = { snapshots: 1_000, promptsPerSnapshot: 10, promptBytes: 5 * 1024 };

const CHILD_LINE = 'snapshot-heap-bytes';

/** Builds each snapshot on demand, so nothing but the cache keeps it. */
class GeneratedSource implements PromptSource {
  readonly id: string;
  constructor(
    private readonly marker: string,
    private readonly shape: MemoryShape,
  ) {
    this.id = `generated:${marker}`;
  }

  async fetch(): Promise<FetchOutcome> {
    const commit = createHash('sha1').update(this.marker).digest('hex');
    const files = generatedSnapshotFiles(this.marker, this.shape.promptsPerSnapshot, this.shape.promptBytes);
    return { kind: 'snapshot', snapshot: { commit, files, skipped: [] } };
  }
}

/** Memory is what is measured: nothing is written anywhere. */
const nothingStored: SnapshotStore = {
  load: async () => ({ snapshot: undefined, invalidHead: undefined, denial: undefined }),
  save: async () => undefined,
  markChecked: async () => undefined,
  markFailed: async () => undefined,
  saveInvalidHead: async () => undefined,
  saveDenial: async () => undefined,
  clearDenial: async () => undefined,
  clearInvalidHead: async () => undefined,
  logFetch: async () => undefined,
};

function targetFor(index: number, shape: MemoryShape): CacheTarget {
  const repo = `snapshot-${index}`;
  return {
    cacheKey: `memory|bench/${repo}@main#public`,
    apiHost: 'memory',
    owner: 'bench',
    repo,
    ref: 'main',
    scope: 'public',
    label: `bench/${repo}@main`,
    createSource: async () => new GeneratedSource(`bench/${repo}`, shape),
  };
}

function collect(gc: () => void): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Bytes held (JS heap plus array buffers) by `shape.snapshots` cached snapshots. */
export async function measureSnapshotHeap(gc: () => void, shape: MemoryShape = defaultMemoryShape): Promise<number> {
  const cache = new SnapshotCache({
    store: nothingStored,
    clock: new ManualClock(Date.parse('2026-11-03T10:00:00Z')),
    logger: silentLogger,
    limits: {},
    ttlMs: 15 * 60_000,
    maxStaleMs: 7 * 24 * 60 * 60_000,
    maxBytes: 4 * 1024 * 1024 * 1024,
    failureBackoffMs: 30_000,
  });
  // One snapshot first, so code and shapes loaded on first use are not counted.
  await mustRefresh(cache, targetFor(-1, shape), shape);
  const before = collect(gc);
  for (let i = 0; i < shape.snapshots; i++) await mustRefresh(cache, targetFor(i, shape), shape);
  const after = collect(gc);
  if (cache.size !== shape.snapshots + 1) throw new Error(`the cache holds ${cache.size} snapshots, expected ${shape.snapshots + 1}`);
  return after - before;
}

async function mustRefresh(cache: SnapshotCache, target: CacheTarget, shape: MemoryShape): Promise<void> {
  const result = await cache.refresh(target);
  const prompts = result.entry?.parsed?.prompts.size ?? 0;
  if (!result.ok || prompts !== shape.promptsPerSnapshot) {
    throw new Error(`${target.label}: ${result.error ?? `parsed ${prompts} prompts, expected ${shape.promptsPerSnapshot}`}`);
  }
}

/**
 * Measures here when `global.gc` is exposed; otherwise in a child started
 * with --expose-gc (tsx does not pass it), reading the number it prints.
 */
export async function snapshotHeapBytes(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') return measureSnapshotHeap(gc);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += String(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`the memory measurement exited with ${code}`))));
  });
  const match = new RegExp(`^${CHILD_LINE}: (\\d+)$`, 'm').exec(output);
  if (match?.[1] === undefined) throw new Error(`the memory measurement printed no figure: ${output.slice(0, 200)}`);
  return Number(match[1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    process.stderr.write('run with node --expose-gc --import tsx\n');
    process.exit(2);
  }
  process.stdout.write(`${CHILD_LINE}: ${await measureSnapshotHeap(gc)}\n`);
}

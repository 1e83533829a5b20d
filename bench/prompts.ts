/**
 * `npm run bench -- prompts`: the prompt engine's figures.
 *
 *   warm-resolve-p50/p99 (us)          a cached prompt (5 KiB, rendered) through the real engine
 *   github-requests-per-repo-per-ttl   API requests of 100 guilds on 3 repos over 2 simulated hours,
 *   github-304-share (%)               steady state, and with `-cold` the same window from a cold start
 *   outage-warm-p99 (ms)               stale snapshots served while GitHub refuses connections
 *   outage-cold-max (ms)               first resolutions with nothing stored and GitHub hanging
 *   outage-breaker-open-p99 (ms)       resolutions answered by a repository's open circuit breaker
 *   snapshot-heap-1000 (MB)            heap held by 1,000 cached snapshots of 10 × 5 KiB prompts
 *
 * `npm run bench -- prompts --repo <dir> --category <c> --channel <x> [--type t]`
 * times the warm resolution of a local repository (served through the GitHub
 * emulator, so the path is the same) for that context, printing the two warm figures.
 */
import { parseArgs } from 'node:util';
import type { PromptContext } from '../src/prompts/types.ts';
import { report } from './_report.ts';
import { closeDatabase, loadBundled, openMemoryDatabase } from './_prompts-engine.ts';
import { snapshotHeapBytes } from './_prompts-memory.ts';
import { measureBreakerOpen, measureOutageColdMax, measureOutageWarm } from './_prompts-outage.ts';
import { measureRequests } from './_prompts-requests.ts';
import { measureWarm, type WarmRepo } from './_prompts-warm.ts';

/** Memory figures are in MiB (2^20 bytes), printed as MB. */
const MiB = 1024 * 1024;

function warmRepoFrom(args: string[]): WarmRepo {
  const { values } = parseArgs({
    args,
    options: { repo: { type: 'string' }, category: { type: 'string' }, channel: { type: 'string' }, type: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.repo === undefined) {
    if (values.category !== undefined || values.channel !== undefined || values.type !== undefined) {
      throw new Error('--category, --channel and --type describe a request to a local repository: give --repo <dir> too');
    }
    return { kind: 'generated', promptBytes: 5 * 1024 };
  }
  if (values.category === undefined || values.channel === undefined) {
    throw new Error('with --repo, give the request context: --category <c> --channel <x> [--type t]');
  }
  const context: PromptContext = { category: values.category, channel_name: values.channel, ...(values.type === undefined ? {} : { type: values.type }) };
  return { kind: 'directory', dir: values.repo, context };
}

const USAGE = 'usage: npm run bench -- prompts [--repo <dir> --category <c> --channel <x> [--type t]]';

export async function run(args: string[]): Promise<void> {
  let repo: WarmRepo;
  try {
    repo = warmRepoFrom(args);
  } catch (error) {
    process.stderr.write(`prompts: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (repo.kind === 'directory') {
    // A repository or context of the user's that cannot be measured is a
    // message for them, not a stack trace.
    await measureAll(repo).catch((error: unknown) => {
      process.stderr.write(`prompts: ${(error as Error).message}\n`);
      process.exitCode = 1;
    });
    return;
  }
  await measureAll(repo);
}

async function measureAll(repo: WarmRepo): Promise<void> {
  const database = await openMemoryDatabase();
  try {
    const bundled = await loadBundled();
    const warm = await measureWarm(database, bundled, repo);
    report('warm-resolve-p50', warm.p50Us, 'us');
    report('warm-resolve-p99', warm.p99Us, 'us');
    if (repo.kind === 'directory') return;

    const steady = await measureRequests(database, bundled, 'steady');
    report('github-requests-per-repo-per-ttl', steady.perRepoPerTtl, 'requests');
    report('github-304-share', steady.share304, '%');
    const cold = await measureRequests(database, bundled, 'cold');
    report('github-requests-per-repo-per-ttl-cold', cold.perRepoPerTtl, 'requests');
    report('github-304-share-cold', cold.share304, '%');

    report('outage-warm-p99', await measureOutageWarm(database, bundled), 'ms');
    report('outage-cold-max', await measureOutageColdMax(database, bundled), 'ms');
    report('outage-breaker-open-p99', await measureBreakerOpen(database, bundled), 'ms');
  } finally {
    await closeDatabase(database);
  }
  report('snapshot-heap-1000', (await snapshotHeapBytes()) / MiB, 'MB');
}
